"""The REST API's foundation (docs/api.md): Bearer-token authentication, the permission that
every endpoint shares, per-token throttling, errors as application/problem+json (RFC 9457),
Idempotency-Key replay and cursor pagination. Each app's endpoints live in its own api.py."""

import datetime
import hashlib
import json
import re
import time
from functools import wraps
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, connection, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.utils.html import strip_tags
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, permissions, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from linkedin_crm.auth import TeamAuthenticationBackend
from linkedin_crm.models import ApiToken, IdempotencyKey

PROBLEM_JSON = "application/problem+json"

# --- authentication and permissions -------------------------------------------------------------


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>` with a personal API token. The request acts as the
    token's owner, with exactly their roles and object rules: request.user is the owner,
    request.auth the token."""

    def authenticate(self, request):
        header = get_authorization_header(request)
        if not header:
            return None
        scheme, _, raw = header.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer":
            return None  # another scheme: not ours to judge (ends as 401 if nothing accepts it)
        raw = raw.strip()
        if not raw or " " in raw:
            raise exceptions.AuthenticationFailed(
                "The Authorization header must read “Bearer ” followed by one token."
            )
        token = ApiToken.objects.filter(token_hash=ApiToken.hash(raw)).first()
        if token is None:
            raise exceptions.AuthenticationFailed("This API token is not known.")
        now = timezone.now()
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This API token was revoked.")
        if not token.is_usable(now):
            raise exceptions.AuthenticationFailed(
                f"This API token expired at {token.expires_at.isoformat()}."
            )
        # With its permissions in the same query, as a signed-in page loads its user.
        user = TeamAuthenticationBackend().get_user(token.owner_id)
        if user is None or not user.is_staff:
            raise exceptions.AuthenticationFailed(
                "This API token's owner is no longer an active staff member."
            )
        return (user, token)

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes BearerTokenAuthentication."""

    target_class = "linkedin_crm.api.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token from /settings/api-tokens/.",
        }


class IsActiveStaff(permissions.BasePermission):
    """The API is for the team, like every page: active staff only."""

    message = "The API is for active staff members."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_staff)


class TokenScope(permissions.BasePermission):
    """A read-only token may read, never write."""

    message = "This API token is read-only: it may only read (GET)."

    def has_permission(self, request, view):
        token = request.auth
        if isinstance(token, ApiToken) and token.read_only:
            return request.method in permissions.SAFE_METHODS
        return True


class AdminOnly(permissions.BasePermission):
    """Acts on the whole team's queue (a dispatch tick): Admins, who may manage the team."""

    message = "Only an Admin may do this."

    def has_permission(self, request, view):
        from linkedin_crm import roles

        return request.user.has_perm(roles.MANAGE_TEAM)


# --- throttling ----------------------------------------------------------------------------------

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "600/minute" → (600, 60). Settings are read at start, so a bad value names itself."""
    try:
        count, period = rate.split("/")
        return int(count), _PERIODS[period.strip()[0].lower()]
    except (ValueError, KeyError, IndexError):
        raise ValueError(
            f"An API throttle rate looks like 600/minute (second, minute, hour or day), "
            f"got {rate!r}"
        ) from None


class TokenThrottle(BaseThrottle):
    """Requests per token, reads and writes counted apart (API_THROTTLE_READ and
    API_THROTTLE_WRITE), in fixed windows. The count lives on the token's row and one UPDATE
    both counts the request and sets last_used_at: two processes counting at once each see
    the other's request. Requests signed in with a session (the docs page) are a person at a
    browser and not counted."""

    def allow_request(self, request, view):
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        reading = request.method in permissions.SAFE_METHODS
        limit, period = parse_rate(
            settings.API_THROTTLE_READ if reading else settings.API_THROTTLE_WRITE
        )
        now = time.time()
        window = int(now // period)
        kind = "read" if reading else "write"
        table = ApiToken._meta.db_table
        with connection.cursor() as cursor:
            # Column names come from this code, never from the request.
            cursor.execute(
                f"UPDATE {table} SET last_used_at = %s, "  # noqa: S608
                f"{kind}s_in_window = CASE WHEN {kind}_window = %s "
                f"THEN {kind}s_in_window + 1 ELSE 1 END, {kind}_window = %s "
                f"WHERE id = %s RETURNING {kind}s_in_window",
                [
                    connection.ops.adapt_datetimefield_value(timezone.now()),
                    window,
                    window,
                    token.pk,
                ],
            )
            row = cursor.fetchone()
        self._wait = period - (now % period)
        return row is not None and row[0] <= limit

    def wait(self):
        return self._wait


# --- errors --------------------------------------------------------------------------------------


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The resource changed since you read it."
    default_code = "precondition_failed"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The resource is not in a state that allows this."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request cannot be processed."
    default_code = "unprocessable"


def field_errors(errors) -> dict[str, list[str]]:
    """A Django form's or a serializer's errors as {field: [sentences]}; errors of no field
    under "non_field_errors" (DRF's name), HTML taken out."""
    out: dict[str, list[str]] = {}
    items = errors.items() if isinstance(errors, dict) else [("non_field_errors", errors)]
    for name, messages in items:
        key = "non_field_errors" if name == "__all__" else str(name)
        if isinstance(messages, dict):
            for sub, sub_messages in field_errors(messages).items():
                out[f"{key}.{sub}"] = sub_messages
            continue
        if not isinstance(messages, list | tuple):
            messages = [messages]
        out.setdefault(key, []).extend(strip_tags(str(message)) for message in messages)
    return out


def problem_exception_handler(exc, context):
    """Every error as application/problem+json (RFC 9457): type, title, status, detail and,
    for invalid input, `errors` with the sentences for each field. Invalid input is 422."""
    # Imported here: rest_framework.views reads the settings, which name this module.
    from rest_framework.views import exception_handler

    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(
            f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes."
        )
    elif isinstance(exc, OverflowError):
        # A number too large for the database in a filter or a body (see
        # linkedin_crm.middleware.NumberTooLargeMiddleware for the pages).
        exc = exceptions.ValidationError("A number in the request is too large to be an id.")
    response = exception_handler(exc, context)
    if response is None:
        return None
    code = response.status_code
    problem = {"type": "about:blank", "title": HTTPStatus(code).phrase, "status": code}
    if isinstance(exc, exceptions.ValidationError):
        code = status.HTTP_422_UNPROCESSABLE_ENTITY
        errors = field_errors(exc.detail)
        problem.update(
            status=code,
            title=HTTPStatus(code).phrase,
            detail=_summary(errors),
            errors=errors,
        )
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        problem["detail"] = str(detail)
    request = context.get("request")
    if request is not None:
        problem["instance"] = request.path
    headers = {
        name: value
        for name, value in response.items()
        if name in ("WWW-Authenticate", "Retry-After", "Allow")
    }
    if "Retry-After" in headers:
        problem["retry_after"] = int(headers["Retry-After"])
    # Rendered here, not by the view's renderer: the schema view's would write YAML.
    response = JsonResponse(problem, status=code, content_type=PROBLEM_JSON)
    for name, value in headers.items():
        response[name] = value
    return response


def _summary(errors: dict[str, list[str]]) -> str:
    if list(errors) == ["non_field_errors"]:
        return " ".join(errors["non_field_errors"])
    fields = ", ".join(name for name in errors if name != "non_field_errors")
    return f"Nothing was saved: check {fields}." if fields else "Nothing was saved."


def raise_validation(errors) -> None:
    raise exceptions.ValidationError(field_errors(errors))


# --- idempotency ---------------------------------------------------------------------------------


def _fingerprint(request) -> str:
    """What a retried request must repeat: method, path and body (as parsed, so a multipart
    upload's random boundary does not count; its files by their bytes)."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    data = request.data
    if hasattr(data, "lists"):  # a form or multipart body
        canonical = sorted((name, sorted(map(str, values))) for name, values in data.lists())
        digest.update(json.dumps(canonical).encode())
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                digest.update(name.encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(json.dumps(data, sort_keys=True, default=str).encode())
    return digest.hexdigest()


IDEMPOTENCY_KEY_FORMAT = re.compile(r"[\x21-\x7e]{1,255}")
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
    OpenApiParameter.HEADER,
    description="A retry with the same key and body gets the first answer again and never "
    "acts twice; the same key with another body is 422. Kept 24 hours.",
)


def idempotent(view):
    """Honour an Idempotency-Key header on a POST that creates or sends: the first 2xx response
    is kept for 24 hours with the key (per user), and a retry with the same key and body gets
    it again (with Idempotent-Replayed: true) without acting twice; the same key with another
    body is 422. The act and the kept response commit together, so a retry racing the first
    request either waits for it and replays, or (on PostgreSQL) fails its insert and rolls its
    own act back, answering 409."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        # A function view's first argument is the request; a view method's is `self`.
        request = args[0] if isinstance(args[0], Request) else args[1]
        key = request.headers.get("Idempotency-Key")
        if key is None or request.method != "POST":
            return view(*args, **kwargs)
        if not IDEMPOTENCY_KEY_FORMAT.fullmatch(key):
            raise exceptions.ValidationError(
                {
                    "Idempotency-Key": [
                        "An Idempotency-Key is 1 to 255 visible ASCII characters, no spaces "
                        "(a UUID is a good one)."
                    ]
                }
            )
        fingerprint = _fingerprint(request)
        now = timezone.now()
        expired = now - datetime.timedelta(hours=IdempotencyKey.LIFETIME_HOURS)
        try:
            with transaction.atomic():
                IdempotencyKey.objects.filter(owner=request.user, created_at__lt=expired).delete()
                first = IdempotencyKey.objects.filter(owner=request.user, key=key).first()
                if first is not None:
                    if first.request_hash != fingerprint:
                        raise Unprocessable(
                            "This Idempotency-Key was used with another request in the last "
                            "24 hours; use a new key for a new request."
                        )
                    headers = {**first.response_headers, "Idempotent-Replayed": "true"}
                    return Response(first.response_body, status=first.status_code, headers=headers)
                response = view(*args, **kwargs)
                if 200 <= response.status_code < 300:
                    IdempotencyKey.objects.create(
                        owner=request.user,
                        key=key,
                        request_hash=fingerprint,
                        status_code=response.status_code,
                        response_body=response.data,
                        response_headers={
                            name: value for name, value in response.items() if name == "Location"
                        },
                        created_at=now,
                    )
                return response
        except IntegrityError:
            raise Conflict(
                "Another request with this Idempotency-Key was being answered at the same "
                "time; retry to get its response."
            ) from None

    return wrapper


# --- pagination ----------------------------------------------------------------------------------


class ApiCursorPagination(CursorPagination):
    """Lists page with opaque cursors (`next`, `previous`): stable while rows are added."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

    def get_page_size(self, request):
        """The asked-for page size; one that is not a whole number from 1 to 200 is refused
        rather than quietly replaced by the default."""
        raw = request.query_params.getlist(self.page_size_query_param)
        if not raw:
            return self.page_size
        if len(raw) > 1 or not raw[0].isdigit() or not 1 <= int(raw[0]) <= self.max_page_size:
            raise exceptions.ValidationError(
                {"page_size": [f"A page holds 1 to {self.max_page_size} items."]}
            )
        return int(raw[0])

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters


# For a ListAPIView of what the token's owner may see, `member_queryset(request)`, a cursor page
# at a time. The schema generator asks without a user: it gets an empty queryset of the
# serializer's model. Comments, not a docstring: the schema would show one as the description
# of a view without its own. A mixin, because rest_framework's views read this module's
# authentication class when they are imported.
class MemberListMixin:
    pagination_class = ApiCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.get_serializer_class().Meta.model.objects.none()
        return self.member_queryset(self.request)

    def member_queryset(self, request):
        raise NotImplementedError


# --- the schema ----------------------------------------------------------------------------------

# Named in each endpoint's responses; add_problem_responses below describes its body.
PROBLEM = OpenApiResponse(description="A problem (application/problem+json, RFC 9457).")

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "An error, as RFC 9457 describes it.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "object",
            "description": "For 422: the sentences about each field that was refused.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "retry_after": {"type": "integer", "description": "For 429: seconds to wait."},
    },
    "required": ["type", "title", "status", "detail"],
}
ERROR_STATUSES = {
    "400": "The body is not well-formed JSON.",
    "401": "No token, or one that is unknown, revoked or expired.",
    "403": "The token's owner may not do this, or the token is read-only.",
    "404": "Not found, or not one the token's owner may see.",
    "405": "This method is not allowed here.",
    "409": "The object is not in a state that allows this.",
    "412": "If-Match named a version that is no longer current.",
    "413": "The body is too large.",
    "415": "The body's media type is not accepted here.",
    "422": "The request is well-formed but invalid: see `errors`.",
    "429": "Too many requests for this token; see Retry-After.",
}


def add_problem_responses(result, generator, request, public):
    """drf-spectacular's postprocessing hook: every operation may answer each error status
    as application/problem+json, described once."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem = {"$ref": "#/components/schemas/Problem"}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_STATUSES.items():
                responses[code] = {
                    "description": description,
                    "content": {PROBLEM_JSON: {"schema": problem}},
                }
    return result
