"""Bad input answered as such, wherever a form, a filter or an address lets it through."""

from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme


class NumberTooLargeMiddleware:
    """A number too large for the database (say ?tags=99999999999999999999) reaches SQLite
    through any choice field or filter and stops the query with an OverflowError: answer 400
    with a sentence instead of a server error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OverflowError):
            ctx = {"reason": "A number in the address or the form is too large to be an id."}
            return render(request, "400.html", ctx, status=400)
        return None


class MethodNotAllowedPageMiddleware:
    """A POST-only action opened by address (a bookmark, a link pasted from the address bar)
    gets require_POST's empty 405, which the browser shows as a blank error page: answer with
    a page that says what happened and leads back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 405 or response.content or request.method == "HEAD":
            return response
        referer = request.headers.get("referer", "")
        safe = url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        ctx = {"back": referer if safe and referer != request.build_absolute_uri() else ""}
        page = render(request, "405.html", ctx, status=405)
        page["Allow"] = response["Allow"]
        return page
