"""gunicorn's settings for production (README, "Going to production") and `make loadtest`:
`.venv/bin/gunicorn -c gunicorn.conf.py`. Options given on the command line win over these.

Sync workers, one request each at a time, behind a proxy that buffers request bodies (README's
nginx example): the pages are short database work, and a slow client is the proxy's to hold.
"""

import os

wsgi_app = "linkedin_crm.wsgi:application"
# Only the proxy on this machine talks to gunicorn (--bind to change it).
bind = "127.0.0.1:8000"
# No control socket (gunicornc): by default it is $HOME/.gunicorn/gunicorn.ctl, which for README's
# crm user is /srv/crm, the checkout, and one path for every gunicorn the user runs (the service,
# `make loadtest`), each taking it over and deleting it when it stops. The systemd unit reloads
# and stops gunicorn with signals.
control_socket_disable = True

# gunicorn's own variable. Three suits a 2-core machine that also runs a worker cluster (issue
# #16 measured with three); more than 2 x cores + 1 only queues requests in memory.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))

# A request still running after 30 s is killed with its worker, and the user gets a 502 from
# the proxy: long work (large imports) belongs to the task queue, which has its own 120 s
# limit. The proxy's proxy_read_timeout (60 s in README) must stay above this.
timeout = 30
# On a restart (SIGHUP, SIGTERM) a worker finishes the request it is serving for up to this long.
graceful_timeout = 30
# Keep-alive between the proxy and gunicorn, below nginx's default upstream keep-alive.
keepalive = 5

# A worker is replaced after about this many requests, so that memory a request leaves behind
# (a fragmented heap after a large page) does not accumulate; the jitter keeps the workers from
# restarting at the same moment.
max_requests = 1000
max_requests_jitter = 100

# Access log on stdout, for the process manager's journal: the client (as the proxy saw it),
# the request line, status, bytes, and the time it took (%(M)s, milliseconds), which is where
# a slow page first shows.
accesslog = "-"
access_log_format = '%({x-forwarded-for}i)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms'
errorlog = "-"
