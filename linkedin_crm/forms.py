"""Form helpers the apps share."""

from django import forms


def use_bounds(field: forms.IntegerField, bounds: list) -> None:
    """The model's [MinValueValidator, MaxValueValidator] with their own messages, in place of
    the form field's: a PositiveIntegerField's form field answers -5 with a generic "greater
    than or equal to 0" and 0 with the model's minimum, two messages for one rule. The input's
    min and max say the same."""
    low, high = bounds
    field.validators = list(bounds)
    field.widget.attrs.update(min=low.limit_value, max=high.limit_value)


def date_input() -> forms.DateInput:
    """The browser's date picker, for the date filters of the list pages."""
    return forms.DateInput(attrs={"type": "date"})
