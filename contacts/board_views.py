"""The stage board (/contacts/board/): a column per stage, the contact list's filter, and
stage changes by drag and drop, keyboard or a menu on each card (docs/features.md)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html_join
from django.views.decorators.http import require_POST

from contacts import services
from contacts.filters import ContactFilter
from contacts.forms import StageForm
from contacts.models import Connection, Contact, Stage
from linkedin_crm.auth import staff_required

# Cards a column shows at first and per "Show more": a column of 40,000 leads is paged, never
# rendered whole. A screen shows four or five cards a column; rendering is most of the page's
# time (docs/features.md has the measurements).
COLUMN_PAGE = 10
# A filter matching at most this many contacts has its cards looked up by id (_columns).
LOOK_UP_AT_MOST = 1_000
# Parameters of the board's own, not the filter's: which column to page and from where.
PAGING_PARAMS = ("column", "after", "page", "sort")


def _filter_params(query: QueryDict) -> QueryDict:
    params = query.copy()
    for name in PAGING_PARAMS:
        params.pop(name, None)
    return params


def _filtered(params: QueryDict) -> tuple[ContactFilter, object]:
    """The contact list's filter over `params`, and the contacts it lets through (none while
    it is not valid, as on the list)."""
    filterset = ContactFilter(params or None, queryset=Contact.objects.probing())
    if filterset.is_bound and not filterset.is_valid():
        return filterset, Contact.objects.none()
    # The board orders each column itself: newest contacts first, walked on the (stage, id)
    # index until a column has its page (hence probing()).
    return filterset, filterset.qs.order_by()


def _with_owners(contacts) -> list[Contact]:
    """The cards' contacts with `owner`: the team member whose network they came into first
    (one subquery per card, then the few owners in one query)."""
    first_owner = (
        Connection.objects.filter(contact=OuterRef("pk"))
        .order_by("connected_on", "id")
        .values("network__owner_id")[:1]
    )
    cards = list(contacts.annotate(owner_id=Subquery(first_owner)))
    owners = get_user_model().objects.in_bulk({card.owner_id for card in cards} - {None})
    options = _stage_options()
    for card in cards:
        card.owner = owners.get(card.owner_id)
        card.stage_options = options[card.stage]
    return cards


def _stage_options() -> dict[str, str]:
    """Each stage's <option>s for a card's menu, that stage selected: built once a request
    rather than looped over in the template for every card (most of a board's render time)."""
    return {
        current: format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (value, " selected" if value == current else "", label)
                for value, label in Stage.choices
            ),
        )
        for current in Stage.values
    }


def _columns(filterset: ContactFilter, contacts) -> list[dict]:
    """Every stage's count (one grouped query, over the filter written for counting) and first
    page of cards (one query: each column's newest ids as a LIMITed subquery). A filter that
    matches many contacts has its columns walked on the (stage, id) index until each has its
    page; one that matches few (a rare tag: a column may hold none of them) has its contacts
    looked up by id instead, as the count did, rather than whole columns walked."""
    counted = filterset.qs_to_count.order_by()
    counts = dict(counted.values_list("stage").annotate(n=Count("pk")).order_by())
    if sum(counts.values()) <= LOOK_UP_AT_MOST:
        contacts = counted
    first_pages = Q()
    for stage in Stage.values:
        newest = contacts.filter(stage=stage).order_by("-id").values("pk")[:COLUMN_PAGE]
        first_pages |= Q(pk__in=newest)
    cards = _with_owners(Contact.objects.filter(first_pages).order_by("-id"))
    columns = []
    for stage, label in Stage.choices:
        column_cards = [card for card in cards if card.stage == stage]
        count = counts.get(stage, 0)
        columns.append(
            {
                "stage": stage,
                "label": label,
                "count": count,
                "cards": column_cards,
                "more": count > len(column_cards),
                "after": column_cards[-1].pk if column_cards else None,
            }
        )
    return columns


@staff_required
def contact_board(request):
    params = _filter_params(request.GET)
    filterset, contacts = _filtered(params)
    columns = _columns(filterset, contacts)
    ctx = {
        "filter": filterset,
        "columns": columns,
        "total": sum(column["count"] for column in columns),
        "query": params.urlencode(),
        "page_size": COLUMN_PAGE,
    }
    return render(request, "contacts/board/board.html", ctx)


@staff_required
def contact_board_column(request):
    """The next cards of one column (htmx, from its "Show more" button): those older than
    `after`, keyset-paged so that a deep page costs what the first does."""
    stage = request.GET.get("column", "")
    try:
        after = int(request.GET.get("after", ""))
    except ValueError:
        after = None
    params = _filter_params(request.GET)
    if stage not in Stage.values or after is None:
        error = "That link to more cards of a column is not valid; here is the whole board."
        if request.htmx:
            ctx = {"message": "These cards could not be loaded: reload the board."}
            return render(request, "contacts/board/_column_error.html", ctx, status=400)
        # Opened directly (a copied link, a hand-edited address): the board it belongs to.
        messages.error(request, error)
        query = params.urlencode()
        return redirect(reverse("contacts:board") + (f"?{query}" if query else ""))
    _, contacts = _filtered(params)
    page = list(contacts.filter(stage=stage, pk__lt=after).order_by("-id")[: COLUMN_PAGE + 1])
    cards = _with_owners(Contact.objects.filter(pk__in=[c.pk for c in page[:COLUMN_PAGE]]))
    cards.sort(key=lambda card: -card.pk)
    ctx = {
        "column": {"stage": stage, "label": Stage(stage).label},
        "cards": cards,
        "more": len(page) > COLUMN_PAGE,
        "after": cards[-1].pk if cards else None,
        "query": params.urlencode(),
    }
    return render(request, "contacts/board/_cards.html", ctx)


@staff_required
@require_POST
def contact_board_move(request, pk):
    """Move one contact to another stage from the board: board.js posts the card's form (drag
    and drop, arrow keys) asking for JSON; without JavaScript the form posts and comes back to
    the board with the same filter. The service checks and audits it as on the contact page."""
    contact = get_object_or_404(Contact, pk=pk)
    wants_json = "application/json" in request.headers.get("Accept", "")
    back = reverse("contacts:board")
    query = QueryDict(request.POST.get("query", "")).urlencode()
    if query:
        back += f"?{query}"
    form = StageForm(request.POST)
    if not form.is_valid():
        error = f"{contact} was not moved: choose one of the listed stages."
        if wants_json:
            return JsonResponse({"error": error}, status=400)
        messages.error(request, error)
        return redirect(back)
    stage = form.cleaned_data["stage"]
    label = Stage(stage).label
    moved = services.contacts_set_stage(
        contacts=Contact.objects.filter(pk=contact.pk), stage=stage, actor=request.user
    )
    text = f"Moved {contact} to “{label}”." if moved else f"{contact} is already in “{label}”."
    if wants_json:
        return JsonResponse({"stage": stage, "label": label, "message": text, "moved": moved})
    messages.success(request, text)
    return redirect(back)
