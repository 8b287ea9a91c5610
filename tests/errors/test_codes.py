"""Every error a person can be shown: one base class, and a code of its own for each error."""

from collections import Counter

import pytest

from chat.protocol import ERROR_CLASSES
from errors import PanelsError


def every_error_class() -> list[type[PanelsError]]:
    """Return PanelsError and every subclass of it that is loaded, but those the tests define."""
    found, waiting = {}, [PanelsError]  # a dict: a class with two parents is met twice
    while waiting:
        error_class = waiting.pop()
        if not error_class.__module__.startswith("tests."):
            found[error_class] = None
        waiting.extend(error_class.__subclasses__())
    return list(found)


def test_no_two_error_classes_share_a_code():
    codes = Counter(error_class.code for error_class in every_error_class())
    assert [code for code, classes in codes.items() if classes > 1] == []


def test_no_two_error_classes_share_a_name():
    names = Counter(error_class.__name__ for error_class in every_error_class())
    assert [name for name, classes in names.items() if classes > 1] == []


def test_the_protocol_knows_every_error_class():
    assert set(every_error_class()) == set(ERROR_CLASSES)


@pytest.mark.parametrize("error_class", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_every_error_class_says_what_it_means(error_class):
    assert error_class.__doc__ and error_class.__doc__.strip()


def test_an_error_class_without_a_code_of_its_own_is_refused():
    with pytest.raises(TypeError, match="Unnamed must set a code of its own"):

        class Unnamed(PanelsError):
            """Inherits its parent's code."""
