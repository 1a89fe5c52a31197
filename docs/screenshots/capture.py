"""Screenshots of the desk for docs/screenshots, from a local server seeded by seed_demo.

    VAR_DIR=/tmp/desk python manage.py migrate && VAR_DIR=/tmp/desk python manage.py seed_demo
    VAR_DIR=/tmp/desk python manage.py runserver 127.0.0.1:8200 --noreload
    python docs/screenshots/capture.py --base http://127.0.0.1:8200 --logins /tmp/desk/demo-logins.json \
        --case /cases/12/
    python docs/screenshots/capture.py ... --user olena --width 390 --height 844 --prefix phone- --queue /

The password comes from --password, or from the demo logins file seed_demo keeps (--logins).
Drives Debian's chromium (apt-get install chromium) through Playwright; no browser download.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8200")
    parser.add_argument("--user", default="supervisor")
    parser.add_argument("--password", default="")
    parser.add_argument("--logins", default="var/demo-logins.json", help="seed_demo's file of demo logins")
    parser.add_argument("--queue", default="/?scope=all")
    parser.add_argument("--case", default="", help="path of the case page to capture, e.g. /cases/12/")
    parser.add_argument("--dashboard", action="store_true", help="capture the dashboard too")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--prefix", default="")
    args = parser.parse_args()
    password = args.password or json.loads(Path(args.logins).read_text())[args.user]["password"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=args.chromium, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": args.width, "height": args.height})
        page.goto(args.base + "/login/")
        page.fill("#id_username", args.user)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(args.base + "/")
        page.goto(args.base + args.queue)
        page.screenshot(path=str(HERE / f"{args.prefix}queue.png"), full_page=False)
        if args.case:
            page.goto(args.base + args.case)
            page.screenshot(path=str(HERE / f"{args.prefix}case.png"), full_page=True)
        if args.dashboard:
            page.goto(args.base + "/dashboard/")
            page.screenshot(path=str(HERE / f"{args.prefix}dashboard.png"), full_page=True)
        browser.close()


if __name__ == "__main__":
    main()
