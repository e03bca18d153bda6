"""How many times one client address may send a public form: the one place for the rule.

`RateLimitMixin` goes on a form view. Each POST adds one to a counter in the database
for (form, client, time window); past `REQUEST_RATE_LIMIT` sends in a window of
`REQUEST_RATE_LIMIT_WINDOW_MINUTES`, the sender gets the "too many tries" page (HTTP 429,
with `Retry-After`) and nothing is stored. Reading the form is never limited.

The counter lives in the database (not a cache) so every web worker sees the same
number, on SQLite and on PostgreSQL alike. It stores a keyed hash of the address,
never the address itself: an IP address is personal data.

`client_network` is the one rule for who counts as one client: an IPv4 address alone, an
IPv6 address with the rest of its /64. The form limits hash it (`client_key`) and
django-axes counts staff sign-in failures by it (`AXES_CLIENT_IP_CALLABLE`), so the two
agree; `login_username` is the user name axes counts failures for
(`AXES_USERNAME_CALLABLE`).
"""

import ipaddress
import logging
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.shortcuts import render
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .models import RateLimitCounter

logger = logging.getLogger(__name__)

HASH_SALT = "appointments.ratelimit.client"


def _parse_ip(value):
    """An IP address from a header entry ("203.0.113.7", "203.0.113.7:443", "[2001:db8::1]:443"),
    or None when it is not one."""
    value = value.strip()
    if value.startswith("[") and "]" in value:
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket ("::ffff:203.0.113.7") is that IPv4 client.
    return getattr(address, "ipv4_mapped", None) or address


def client_ip(request):
    """The client's address as a string, or None when there is no valid one.

    With no proxy in front (`TRUSTED_PROXY_COUNT` = 0) that is the connection's address,
    `REMOTE_ADDR`; X-Forwarded-For is ignored, because anyone can send it. With N trusted
    proxies, each adds the address it was reached from to the right of X-Forwarded-For, so
    the client's address is the N-th entry from the right: the right-most one that our
    own proxies did not write. Anything left of it was written by the client.
    """
    address = _parse_ip(request.META.get("REMOTE_ADDR", ""))
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        header = request.META.get("HTTP_X_FORWARDED_FOR", "")
        forwarded = [entry for entry in header.split(",") if entry.strip()]
        if len(forwarded) >= proxies:
            address = _parse_ip(forwarded[-proxies]) or address
    return str(address) if address is not None else None


def login_username(request, credentials=None):
    """The user name django-axes counts sign-in failures for: as typed, cut to the
    longest a user name can be.

    The sign-in form does not check the length of what is typed, and axes stores it in
    a 255-character column: on PostgreSQL a longer one was a 500. No account has a
    longer name, so nothing is lost.
    """
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        username = credentials.get(field)
    else:
        username = getattr(request, "data", request.POST).get(field)
    if not isinstance(username, str):
        return username
    user_model = get_user_model()
    return username[: user_model._meta.get_field(user_model.USERNAME_FIELD).max_length]


def client_network(request):
    """The client as the limits count it, as an address string, or None without one.

    An IPv4 address counts alone ("203.0.113.7"). An IPv6 address counts by its /64
    network, given as that network's first address ("2001:db8:1:2::9" becomes
    "2001:db8:1:2::"): one home or phone usually gets a whole /64 and can pick any
    address in it. Still a valid address, so django-axes can store it.
    """
    address = client_ip(request)
    if address is None or ":" not in address:
        return address
    return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)


def client_key(request):
    """A keyed hash (HMAC with SECRET_KEY) of `client_network`, never the address."""
    address = client_network(request) or "unknown"
    return salted_hmac(HASH_SALT, address, algorithm="sha256").hexdigest()


def current_window(now=None):
    """(start of the current window, seconds until it ends)."""
    length = settings.REQUEST_RATE_LIMIT_WINDOW_MINUTES * 60
    seconds = int((now or timezone.now()).timestamp())
    start = seconds - seconds % length
    return datetime.fromtimestamp(start, tz=UTC), start + length - seconds


def hit(scope, key, window_start):
    """Add one to the counter for (scope, key, window) and return the new count.

    Atomic on SQLite and PostgreSQL: the UPDATE ... SET count = count + 1 runs in the
    database; the first hit of a window inserts the row, and if another request
    inserted it at the same moment, the unique constraint refuses the second insert
    and that request adds its one with the UPDATE instead.
    """
    counters = RateLimitCounter.objects.filter(scope=scope, client=key, window_start=window_start)
    created = False
    with transaction.atomic():
        if not counters.update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    RateLimitCounter.objects.create(
                        scope=scope, client=key, window_start=window_start, count=1
                    )
                created = True
            except IntegrityError:
                counters.update(count=F("count") + 1)
        count = counters.values_list("count", flat=True).get()
    if created:
        clear_old_windows(window_start)
    return count


def clear_old_windows(before):
    """Delete counters of windows that have ended: nobody needs them any more.

    Run when a client starts a new window, in its own small transaction. If another
    request is deleting the same rows at that moment, this one just leaves it to them.
    """
    try:
        with transaction.atomic():
            RateLimitCounter.objects.filter(window_start__lt=before).delete()
    except DatabaseError:
        logger.info("Old rate limit counters were left for the next request to clear.")


def too_many_tries(request, retry_after):
    """The friendly 429 page: call us instead, or try again later."""
    response = render(
        request,
        "429.html",
        {"retry_minutes": max(1, -(-retry_after // 60))},
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return response


class RateLimitMixin:
    """Limits how often one client may POST to this view (see the module docstring).

    Set `rate_limit_scope` (or override `get_rate_limit_scope`): each scope has its own
    counter, so a patient who used one form can still use the other.
    """

    rate_limit_scope = None

    def get_rate_limit_scope(self):
        return self.rate_limit_scope

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST":
            scope = self.get_rate_limit_scope()
            key = client_key(request)
            window_start, retry_after = current_window()
            if hit(scope, key, window_start) > settings.REQUEST_RATE_LIMIT:
                # The hash, not the address, so the log holds no personal data.
                logger.warning("Rate limit reached on %s (client %s).", scope, key[:12])
                return too_many_tries(request, retry_after)
        return super().dispatch(request, *args, **kwargs)
