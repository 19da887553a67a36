"""Phone normalisation: every way a Chinese number is written lands on one E.164 form."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.crm import phones, privacy
from hotline.crm.phones import PhoneKind, normalize, try_normalize


def test_doctests_pass() -> None:
    assert doctest.testmod(phones).failed == 0
    assert doctest.testmod(privacy).failed == 0


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "008613812345678",
        "8613812345678",
        "013812345678",
        "＋８６ １３８１２３４５６７８",
        "(+86) 138.1234.5678",
    ],
)
def test_mobile_forms(raw: str) -> None:
    number = normalize(raw)
    assert (number.e164, number.kind) == ("+8613812345678", PhoneKind.MOBILE)


@pytest.mark.parametrize(
    ("raw", "e164", "area"),
    [
        ("010-65521234", "+861065521234", "10"),
        ("(010) 6552 1234", "+861065521234", "10"),
        ("+86 10 6552 1234", "+861065521234", "10"),
        ("0086-10-65521234", "+861065521234", "10"),
        ("021-5888-1234", "+862158881234", "21"),
        ("0571-87654321", "+8657187654321", "571"),
        ("0571 8765432", "+865718765432", "571"),
        ("010-65521234转8001", "+861065521234", "10"),
    ],
)
def test_landline_forms(raw: str, e164: str, area: str) -> None:
    number = normalize(raw)
    assert (number.e164, number.kind, number.area_code) == (e164, PhoneKind.LANDLINE, area)


def test_local_number_takes_the_sites_area_code() -> None:
    assert normalize("65521234", default_area_code="010").e164 == "+861065521234"
    assert normalize("87654321", default_area_code="571").e164 == "+8657187654321"
    with pytest.raises(ValueError, match="needs an area code"):
        normalize("65521234")


def test_service_and_foreign_numbers() -> None:
    assert normalize("400-810-8888").e164 == "+864008108888"
    assert normalize("800 820 8820").kind is PhoneKind.SERVICE
    foreign = normalize("+1 (415) 555-0100")
    assert (foreign.e164, foreign.kind) == ("+14155550100", PhoneKind.INTERNATIONAL)
    assert normalize("00852 2345 6789").e164 == "+85223456789"


@pytest.mark.parametrize("raw", ["", "abc", "12345", "1381234567", "+86 12 3"])
def test_not_phone_numbers(raw: str) -> None:
    assert try_normalize(raw) is None


def test_masking_keeps_only_what_recognises_a_record() -> None:
    assert normalize("13812345678").masked() == "+86138****5678"
    assert privacy.mask_phone("+861065521234").endswith("1234")
    assert "建国路" not in privacy.mask_address("北京市朝阳区建国路88号")


mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


@given(
    mobiles, st.sampled_from(["{m}", "+86{m}", "0086{m}", "0{m}", "+86 {a} {b} {c}", "{a}-{b}-{c}"])
)
def test_every_written_form_of_a_mobile_is_one_number(mobile: str, form: str) -> None:
    written = form.format(m=mobile, a=mobile[:3], b=mobile[3:7], c=mobile[7:])
    number = normalize(written)
    assert number.e164 == "+86" + mobile and number.kind is PhoneKind.MOBILE


landlines = st.tuples(
    st.sampled_from(["10", "21", "20", "571", "755", "28"]),
    st.from_regex(r"[2-8][0-9]{6,7}", fullmatch=True),
)


@given(landlines)
def test_landline_with_and_without_country_code_agree(parts: tuple[str, str]) -> None:
    area, local = parts
    forms = [f"0{area}-{local}", f"+86 {area} {local}", f"0086{area}{local}", local]
    numbers = {normalize(f, default_area_code="0" + area).e164 for f in forms}
    assert numbers == {f"+86{area}{local}"}
