"""Bad input answered as such, wherever a form or filter lets it through."""

from django.shortcuts import render


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
