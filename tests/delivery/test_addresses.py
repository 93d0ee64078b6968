import pytest

from app.delivery.attempt.addresses import AddressPolicy, check_url
from app.errors import BlockedAddress, InvalidInput

STRICT = AddressPolicy()


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "169.254.1.1", "100.64.0.1",
    "0.0.0.0", "224.0.0.1", "239.255.255.250", "255.255.255.255", "198.18.0.1", "192.0.2.1",
    "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
    "2002:7f00:1::", "64:ff9b::a00:1", "2001:db8::1",
])
def test_private_loopback_link_local_multicast_and_metadata_are_refused(address):
    assert not STRICT.is_allowed(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "2002:5db8:d70e::"])
def test_public_addresses_are_allowed(address):
    assert STRICT.is_allowed(address)


def test_allowed_networks_open_chosen_ranges_only():
    policy = AddressPolicy(["10.0.0.0/8", "::1/128"])
    assert policy.is_allowed("10.9.8.7") and policy.is_allowed("::1")
    assert not policy.is_allowed("192.168.1.1") and not policy.is_allowed("127.0.0.1")


def test_metadata_address_stays_refused_even_inside_an_allowed_range():
    assert not AddressPolicy(["169.254.0.0/16"]).is_allowed("169.254.169.254")


def test_bad_allowed_networks_setting_is_a_clear_error():
    with pytest.raises(ValueError, match="WEBHOOK_ALLOWED_NETWORKS"):
        AddressPolicy(["not-a-cidr"])


def test_resolving_a_name_to_refused_addresses_raises_blocked():
    with pytest.raises(BlockedAddress, match="localhost resolves only to addresses"):
        STRICT.resolve("localhost", 80)


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://example.com/x", "http:// or https://"),
    ("example.com/hook", "http:// or https://"),
    ("https:///nohost", "must name a host"),
    ("https://user:pw@example.com/", "user name or password"),
    ("http://example.com:99999/", "invalid port"),
])
def test_check_url_rejects_bad_urls_with_a_clear_message(url, message):
    with pytest.raises(InvalidInput, match=message):
        check_url(url, STRICT, resolve=False)


def test_check_url_refuses_a_loopback_target():
    with pytest.raises(BlockedAddress):
        check_url("http://127.0.0.1:8080/hook", STRICT)
    check_url("http://127.0.0.1:8080/hook", AddressPolicy(["127.0.0.0/8"]))
