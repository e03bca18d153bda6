"""gunicorn settings for production: `make serve`, or `.venv/bin/gunicorn` from this folder.

gunicorn reads ./gunicorn.conf.py by itself, so any gunicorn started here gets these.
Serve behind an HTTPS proxy on the same machine that sets X-Forwarded-Proto.

Environment (all optional; see .env.example):
  GUNICORN_BIND       address to listen on (default 127.0.0.1:8000: only the proxy reaches it)
  WEB_CONCURRENCY     worker processes (default 2 x cores + 1, at most 9)
  GUNICORN_TIMEOUT    seconds a request may take before its worker is restarted (default 30)
  GUNICORN_ACCESS_LOG access log file, "-" for standard output (default), "" for none
"""

import os

# Production never runs with DEBUG on by accident: it must be asked for by name.
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic_site.settings")

wsgi_app = "clinic_site.wsgi:application"

bind = [os.environ.get("GUNICORN_BIND") or "127.0.0.1:8000"]
# Sync workers: each holds one database connection. The cap keeps PostgreSQL's
# connection count and memory use predictable on a big machine.
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * (os.cpu_count() or 1) + 1, 9))
worker_class = "sync"

# Load the site once in the master: a settings error stops start-up at once, with
# a clear message, instead of every worker failing in a loop.
preload_app = True

# Time limits. A stuck request frees its worker after `timeout`; on SIGTERM (systemd
# stop, `kill`), workers finish the requests they have for up to `graceful_timeout`.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 30
# Replace each worker now and then, so a slow leak can never grow without bound; the
# jitter keeps the workers from being replaced all at once. Replacing them every
# 2,000 requests (the old setting) cost 14% of throughput and more than doubled p99
# in `make bench` (README, Benchmarks).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS") or 100000)
max_requests_jitter = int(
    os.environ.get("GUNICORN_MAX_REQUESTS_JITTER") or max(max_requests // 10, 0)
)

# No runtime control socket (gunicornc): nothing here uses it, and its default path in
# the home folder would be shared by every gunicorn of the same user.
control_socket_disable = True

# Only the proxy on this machine may say the request came over HTTPS.
forwarded_allow_ips = "127.0.0.1,::1"
# ...but never where the site lives: by default gunicorn takes SCRIPT_NAME and PATH_INFO
# headers from that proxy, and a proxy that passes a client's SCRIPT_NAME header on would
# let one request change the path Django sees. The site is served at the root.
forwarder_headers = ""

# Logs. The access log has method, path, status and duration only: no query string
# (it could carry what a patient typed), no client address, referrer or user agent.
# systemd's journal adds the time to every line.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
access_log_format = "%(m)s %(U)s %(s)s %(M)sms"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL") or "info"
