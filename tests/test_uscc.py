from hypothesis import given
from hypothesis import strategies as st

from dagster_project.lib.uscc import CHARSET, check_character, is_valid, make_uscc, uscc_problem

# The worked example of GB 32100-2015.
STANDARD_EXAMPLE = "91350100M000100Y43"


def test_standard_example_is_valid():
    assert uscc_problem(STANDARD_EXAMPLE) is None


def test_explains_each_kind_of_problem():
    assert uscc_problem("") == "blank"
    assert uscc_problem("9135010") == "length 7, expected 18"
    assert "charset" in uscc_problem("91350100M000100I43")
    assert "organisation-code check digit" in uscc_problem("91350100M000100Y53")
    assert "check character" in uscc_problem("91350100M000100Y44")


body = st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8)
division = st.sampled_from(["450102", "450202", "451481"])


@given(division, body)
def test_built_codes_are_valid(div, b):
    assert is_valid(make_uscc(div, b))


@given(division, body, st.integers(min_value=0, max_value=17), st.sampled_from(CHARSET))
def test_any_single_character_change_is_detected(div, b, pos, char):
    code = make_uscc(div, b)
    mutated = code[:pos] + char + code[pos + 1 :]
    if mutated != code:
        assert not is_valid(mutated)


@given(st.text(max_size=20))
def test_never_raises_on_arbitrary_text(text):
    assert uscc_problem(text) is None or isinstance(uscc_problem(text), str)


def test_check_character_cycles_through_charset():
    assert check_character("91350100M000100Y4") == "3"
