"""Screenshots of the desk for docs/screenshots (run against a local server seeded by seed_demo).

    DATABASE_URL=sqlite:////tmp/desk.sqlite3 python manage.py seed_demo
    DATABASE_URL=sqlite:////tmp/desk.sqlite3 python manage.py runserver 127.0.0.1:8200
    python docs/screenshots/capture.py --base http://127.0.0.1:8200 --user supervisor --password ...

Drives Debian's chromium (apt-get install chromium) through Playwright; no browser download.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8200")
    parser.add_argument("--user", default="supervisor")
    parser.add_argument("--password", required=True)
    parser.add_argument("--queue", default="/?scope=all")
    parser.add_argument("--case", default="", help="path of the case page to capture, e.g. /cases/12/")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--prefix", default="")
    args = parser.parse_args()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=args.chromium, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": args.width, "height": args.height})
        page.goto(args.base + "/login/")
        page.fill("#id_username", args.user)
        page.fill("#id_password", args.password)
        page.click("button[type=submit]")
        page.wait_for_url(args.base + "/")
        page.goto(args.base + args.queue)
        page.screenshot(path=str(HERE / f"{args.prefix}queue.png"), full_page=False)
        if args.case:
            page.goto(args.base + args.case)
            page.screenshot(path=str(HERE / f"{args.prefix}case.png"), full_page=True)
        browser.close()


if __name__ == "__main__":
    main()
