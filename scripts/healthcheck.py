#!/usr/bin/env python3
"""Exit 0 when the web server's /health/ answers 200, 1 otherwise: docker-compose's health
check of the `web` service (issue 16). Standard library only.

The request goes to HEALTHCHECK_URL (default http://127.0.0.1:8000/health/) with a Host
header the site accepts: the first name of ALLOWED_HOSTS (".tinh.gov.vn" is sent as
"tinh.gov.vn", "*" as "localhost"). /health/ is exempt from the HTTPS redirect, so plain
HTTP inside the container works in production settings. A late beat or reminder run keeps
the 200 (a warning in the body); a database, cache or broker that is down gives 503 and so
"unhealthy".
"""

import os
import sys
import urllib.error
import urllib.request


def host_header(allowed_hosts: str) -> str:
    first = next((name.strip() for name in allowed_hosts.split(",") if name.strip()), "")
    return first.lstrip(".*") or "localhost"


def main() -> int:
    url = os.environ.get("HEALTHCHECK_URL", "http://127.0.0.1:8000/health/")
    request = urllib.request.Request(  # noqa: S310 (a fixed http URL of the container)
        url,
        headers={
            "Host": host_header(os.environ.get("ALLOWED_HOSTS", "")),
            "Accept": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:
        print(f"health check: {url}: {error}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"health check: {url} answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
