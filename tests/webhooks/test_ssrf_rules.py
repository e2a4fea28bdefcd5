"""Which addresses and URLs a webhook may target: the pure half of the SSRF guard."""

from __future__ import annotations

import ipaddress

import pytest

from contracts.ssrf import (
    AddressCategory,
    categorise,
    endpoint_url_problem,
    parse_ip_literal,
    refusal_reason,
)

CATEGORIES = {
    "8.8.8.8": AddressCategory.PUBLIC,
    "2606:4700:4700::1111": AddressCategory.PUBLIC,
    "::ffff:8.8.8.8": AddressCategory.PUBLIC,
    "64:ff9b::808:808": AddressCategory.PUBLIC,
    "127.0.0.1": AddressCategory.LOOPBACK,
    "127.255.0.9": AddressCategory.LOOPBACK,
    "::1": AddressCategory.LOOPBACK,
    "::ffff:127.0.0.1": AddressCategory.LOOPBACK,
    "10.0.0.1": AddressCategory.PRIVATE,
    "172.16.5.4": AddressCategory.PRIVATE,
    "192.168.0.1": AddressCategory.PRIVATE,
    "fd12:3456::1": AddressCategory.PRIVATE,
    "fec0::1": AddressCategory.PRIVATE,
    "::ffff:10.0.0.1": AddressCategory.PRIVATE,
    "::ffff:a00:1": AddressCategory.PRIVATE,
    "64:ff9b::a00:1": AddressCategory.PRIVATE,
    "2002:a00:1::1": AddressCategory.PRIVATE,
    "::a00:1": AddressCategory.PRIVATE,
    "169.254.169.254": AddressCategory.CLOUD_METADATA,
    "::ffff:169.254.169.254": AddressCategory.CLOUD_METADATA,
    "fd00:ec2::254": AddressCategory.CLOUD_METADATA,
    "100.100.100.200": AddressCategory.CLOUD_METADATA,
    "192.0.0.192": AddressCategory.CLOUD_METADATA,
    "169.254.1.1": AddressCategory.LINK_LOCAL,
    "fe80::1": AddressCategory.LINK_LOCAL,
    "224.0.0.1": AddressCategory.MULTICAST,
    "224.0.1.1": AddressCategory.MULTICAST,
    "ff02::1": AddressCategory.MULTICAST,
    "0.0.0.0": AddressCategory.UNSPECIFIED,  # noqa: S104 - classified, never bound
    "::": AddressCategory.UNSPECIFIED,
    "240.0.0.1": AddressCategory.PRIVATE,
    "255.255.255.255": AddressCategory.PRIVATE,
    "100.64.0.1": AddressCategory.NOT_GLOBAL,
    "198.18.0.1": AddressCategory.PRIVATE,
    "2001:db8::1": AddressCategory.PRIVATE,
}


@pytest.mark.parametrize(("address", "category"), CATEGORIES.items())
def test_addresses_fall_in_their_category(address: str, category: AddressCategory) -> None:
    assert categorise(ipaddress.ip_address(address)) is category


def test_only_public_addresses_pass_with_the_guard_on() -> None:
    for address, category in CATEGORIES.items():
        reason = refusal_reason(ipaddress.ip_address(address), allow_private_targets=False)
        assert (reason is None) == (category is AddressCategory.PUBLIC), address


def test_the_local_setting_opens_loopback_and_private_but_never_metadata() -> None:
    def allowed(address: str) -> bool:
        ip = ipaddress.ip_address(address)
        return refusal_reason(ip, allow_private_targets=True) is None

    assert allowed("127.0.0.1")
    assert allowed("::1")
    assert allowed("10.0.0.1")
    assert not allowed("169.254.169.254")
    assert not allowed("fd00:ec2::254")
    assert not allowed("169.254.1.1")
    assert not allowed("0.0.0.0")  # noqa: S104 - classified, never bound
    assert not allowed("224.0.0.1")


def test_refusals_say_what_the_address_is_and_which_name_led_there() -> None:
    ip = ipaddress.ip_address("10.1.2.3")
    assert refusal_reason(ip, allow_private_targets=False) == "10.1.2.3 is a private address"
    assert (
        refusal_reason(ip, allow_private_targets=False, name="intranet.example")
        == "intranet.example resolves to 10.1.2.3, a private address"
    )


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("[::1]", "::1"),
        ("127.1", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("example.com", None),
        ("cafe.be", None),
        ("1.2.3.4.5", None),
    ],
)
def test_ip_literals_include_the_legacy_forms_resolvers_accept(
    host: str, address: str | None
) -> None:
    parsed = parse_ip_literal(host)
    assert (str(parsed) if parsed else None) == address


def test_url_rules() -> None:
    def problem(url: str, *, allow: bool = False, https: bool = False) -> str | None:
        return endpoint_url_problem(url, allow_private_targets=allow, require_https=https)

    assert problem("https://hooks.example.com/in?x=1") is None
    assert problem("http://hooks.example.com:8080/in") is None
    assert "https" in (problem("http://hooks.example.com/", https=True) or "")
    assert problem("http://127.0.0.1:9000/", allow=True) is None
    assert problem("http://localhost:9000/", allow=True) is None
    assert "cloud metadata" in (problem("http://169.254.169.254/", allow=True) or "")
    assert "loopback name" in (problem("http://LOCALHOST./") or "")
    assert "whitespace" in (problem("https://hooks.example.com/a b") or "")
    assert "control characters" in (problem("https://hooks.example.com/\x00") or "")
    assert "longer than" in (problem("https://hooks.example.com/" + "a" * 2048) or "")
