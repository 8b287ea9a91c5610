"""Database constraints reported in words on the field they concern, so a form shows them beside its input.

The database keeps each rule (a CheckConstraint or UniqueConstraint with a worded `violation_error_message`
and a `violation_error_code`). Django checks the same rules before a form saves but reports every violation
above the form, as if it concerned no field; a model with this mixin moves each one to the field its code names.
"""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


class ConstraintErrorsOnFields:
    """Model mixin: report a constraint violation whose code is in `fields_by_violation_code` on that field.

    A violation stays above the form when its field is not validated (not in the form, or already in error),
    since a form can only show an error on a field it has.
    """

    fields_by_violation_code: dict[str, str] = {}

    def validate_constraints(self, exclude=None):
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as error:
            raise ValidationError(self.errors_on_fields(error.error_dict, exclude=exclude or set())) from None

    @classmethod
    def errors_on_fields(cls, errors: dict[str, list[ValidationError]], *, exclude) -> dict[str, list]:
        """Return `errors` with each above-the-form violation moved to the field its code names."""
        moved: dict[str, list[ValidationError]] = {}
        for field, field_errors in errors.items():
            for error in field_errors:
                target = field
                if field == NON_FIELD_ERRORS:
                    target = cls.fields_by_violation_code.get(error.code, NON_FIELD_ERRORS)
                    if target in exclude:
                        target = NON_FIELD_ERRORS
                moved.setdefault(target, []).append(error)
        return moved
