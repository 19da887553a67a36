"""Masking personal data for roles that do not need it (PIPL: least necessary access).

Agents see a caller's number to serve them; a WFM analyst looking at a ticket list does not.
Masks keep enough to recognise a record (surname, last four digits, city) and nothing more.
"""

from __future__ import annotations


def mask_name(name: str) -> str:
    """Keep the first character (the surname) and hide the rest.

    >>> mask_name("张伟"), mask_name("Li Na"), mask_name("")
    ('张*', 'L****', '')
    """
    return name[:1] + "*" * (len(name) - 1) if name else ""


def mask_phone(number: str) -> str:
    """Keep the last four digits.

    >>> mask_phone("+8613812345678")
    '**********5678'
    """
    return "*" * max(0, len(number) - 4) + number[-4:]


def mask_email(address: str) -> str:
    """Keep the first character and the domain.

    >>> mask_email("zhang.wei@example.cn")
    'z***@example.cn'
    """
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_address(address: str) -> str:
    """Keep the first six characters (province / city / district), hide the street and number.

    >>> mask_address("北京市朝阳区建国路88号1201室")
    '北京市朝阳区***'
    """
    return address[:6] + "***" if len(address) > 6 else "***"
