from django.urls import Resolver404, resolve

API_TOKENS_PATH = "/settings/api-tokens/"


def account_menu(request) -> dict:
    """What the signed-in person's menu links to. The API tokens page is linked only where this
    installation has it (its URL resolves), so the menu never offers a 404."""
    try:
        resolve(API_TOKENS_PATH)
    except Resolver404:
        return {"api_tokens_url": ""}
    return {"api_tokens_url": API_TOKENS_PATH}
