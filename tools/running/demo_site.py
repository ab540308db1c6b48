"""Serves the demo careers site (widget/demo/) and the built widget
(widget/dist/careers-chat.js, at /careers-chat.js) over HTTP, for `make run` and the
browser tests, and the class check for careers advisers (class-check.html).

    python -m tools.running.demo_site --port 8080 --rasa-url http://localhost:5005

The demo pages name the assistant as http://localhost:5005; `--rasa-url` points
them at another address (the tests start Rasa on a free port).

The class check (dialogue/class_check.py): POST /class-check takes a class's CSV file,
as the request body (Content-Type: text/csv) or as the `file` field of a form upload,
and answers with each student's verdict: JSON when asked for (Accept: application/json,
as the page does), otherwise the results as a CSV download. GET /class-check says which
columns it reads; GET /class-check-template.csv is the template. The file is checked in
memory and nothing of it is kept: it is never written anywhere, and the log has the
request line and status only. The chat's entity reader is loaded on the first check (a
few seconds), so the site starts as fast as before.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import sys
import threading
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from careers.rules_file import EntryRules, default_rules
from dialogue.class_check import (
    FACT_COLUMNS,
    MAX_FILE_BYTES,
    MAX_STUDENTS,
    RESULT_COLUMNS,
    STUDENT_COLUMNS,
    ClassCheckError,
    EntityReader,
    StudentResult,
    check_class,
    results_csv,
    verdict_counts,
)

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "widget" / "demo"
WIDGET = ROOT / "widget" / "dist" / "careers-chat.js"
DEFAULT_RASA_URL = "http://localhost:5005"
CLASS_CHECK = "/class-check"
TEMPLATE_PATH = "/class-check-template.csv"
TEMPLATE = ROOT / "tools" / "careers_team" / "class-check-template.csv"
# A form upload wraps the file in a little more than the file itself.
MAX_UPLOAD_BYTES = MAX_FILE_BYTES + 16 * 1024
# A larger body is read and dropped up to this size before the answer (413), then cut off.
MAX_DISCARDED_BYTES = 16 * 1024 * 1024
# How a browser may label a CSV file it uploads (Windows says it is Excel's).
CSV_TYPES = (
    "text/csv",
    "text/plain",
    "application/csv",
    "application/vnd.ms-excel",
    "application/octet-stream",
)
TOO_LARGE = (
    f"The file is too large: the class check reads files of up to {MAX_FILE_BYTES // 1024} KB "
    f"({MAX_STUDENTS} students). Split it into smaller files."
)


class UploadError(Exception):
    """A request the class check cannot take: its HTTP status and a plain message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ClassChecker:
    """The class check behind the page: the chat's entity reader, loaded on first use,
    and one class checked at a time (the work is all processor time anyway)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: Optional[Tuple[EntryRules, EntityReader]] = None

    def check(self, data: bytes) -> List[StudentResult]:
        with self._lock:
            if self._ready is None:
                from tools.careers_team.check_class import chat_entity_reader

                self._ready = (default_rules(), chat_entity_reader())
            rules, entities_of = self._ready
            return check_class(rules, data, entities_of)


def uploaded_file(content_type: str, body: bytes) -> bytes:
    """The CSV file in a request body: the body itself, or the `file` field of a form."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "multipart/form-data":
        form = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + body
        )
        if form.is_multipart():
            for part in form.iter_parts():
                if part.get_param("name", header="content-disposition") == "file":
                    payload = part.get_payload(decode=True)
                    if isinstance(payload, bytes) and payload.strip():
                        return payload
        raise UploadError(400, "Choose the class's CSV file to upload.")
    if kind and kind not in CSV_TYPES:
        raise UploadError(415, "Send the class as a CSV file (Content-Type: text/csv).")
    return body


def class_check_answer(results: List[StudentResult]) -> Dict[str, Any]:
    """What the page shows: the counts, the table's headings and rows, and the CSV to download."""
    rows = [
        {
            **result.as_row(),
            "tone": result.tone,
            "source_links": [
                {"title": title, "url": url}
                for title, url in zip(result.source_titles, result.sources, strict=True)
            ],
        }
        for result in results
    ]
    return {
        "students": len(results),
        "counts": verdict_counts(results),
        "columns": [list(column) for column in RESULT_COLUMNS],
        "rows": rows,
        "csv": results_csv(results),
    }


def class_check_columns() -> Dict[str, Any]:
    """The columns the class check reads and its limits, for the page to list."""
    return {
        "student_columns": list(STUDENT_COLUMNS),
        "columns": [
            {"name": c.name, "needed": c.needed, "read_as": c.read_as, "example": c.example}
            for c in FACT_COLUMNS
        ],
        "max_students": MAX_STUDENTS,
        "max_bytes": MAX_FILE_BYTES,
        "template": TEMPLATE_PATH,
    }


class DemoHandler(http.server.SimpleHTTPRequestHandler):
    rasa_url = DEFAULT_RASA_URL
    class_checker = ClassChecker()
    # Seconds a connection may sit without sending: an upload that stops halfway does not
    # hold its thread for ever.
    timeout = 60

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if path == "/careers-chat.js":
            return self._send(WIDGET, "text/javascript; charset=utf-8")
        if path == CLASS_CHECK:
            return self._send_json(200, class_check_columns())
        if path == TEMPLATE_PATH:
            return self._send_bytes(
                TEMPLATE.read_bytes(),
                "text/csv; charset=utf-8",
                {"Content-Disposition": 'attachment; filename="class-check-template.csv"'},
            )
        if path == "/" or path.endswith(".html"):
            page = DEMO / ("index.html" if path == "/" else path.lstrip("/"))
            if page.resolve().parent == DEMO.resolve() and page.is_file():
                html = page.read_text(encoding="utf-8").replace(DEFAULT_RASA_URL, self.rasa_url)
                return self._send_bytes(html.encode("utf-8"), "text/html; charset=utf-8")
        return super().do_GET()

    def do_POST(self) -> None:
        """The class check. The file is only ever in this request's memory: it is never
        written, and neither it nor anything from it goes to the log."""
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if path != CLASS_CHECK:
            self._send_message(404, "Nothing here takes a POST: the class check is at /class-check.")
            return
        try:
            data = uploaded_file(self.headers.get("Content-Type", ""), self._request_body())
            results = self.class_checker.check(data)
        except UploadError as error:
            self._send_message(error.status, error.message)
            return
        except ClassCheckError as error:
            self._send_message(400, str(error))
            return
        except Exception as error:  # never a traceback, which could quote the file
            self.log_message("class check failed: %s", type(error).__name__)
            self._send_message(
                500, "The class check failed, and nothing of the file was kept. Please try again."
            )
            return
        if self._wants_json():
            self._send_json(200, class_check_answer(results))
        else:
            self._send_bytes(
                ("\ufeff" + results_csv(results)).encode("utf-8"),
                "text/csv; charset=utf-8",
                {"Content-Disposition": 'attachment; filename="class-check-results.csv"'},
            )

    def _request_body(self) -> bytes:
        """The request's body, refused unread when it is larger than the class check takes."""
        length = self.headers.get("Content-Length")
        if length is None:
            self.close_connection = True
            raise UploadError(411, "Send the file with its length (a Content-Length header).")
        try:
            size = int(length)
        except ValueError:
            self.close_connection = True
            raise UploadError(400, "The Content-Length header is not a number.") from None
        if size > MAX_UPLOAD_BYTES or size < 0:
            self._discard(size)
            raise UploadError(413, TOO_LARGE)
        if size == 0:
            raise UploadError(400, "The request has no file in it. Choose the class's CSV file to upload.")
        return self.rfile.read(size)

    def _discard(self, size: int) -> None:
        """Reads a body too large to check and drops it, a piece at a time, so that the
        sender gets the answer rather than a broken connection; a very large one is cut off."""
        self.close_connection = True
        left = min(size, MAX_DISCARDED_BYTES)
        while left > 0:
            piece = self.rfile.read(min(left, 64 * 1024))
            if not piece:
                break
            left -= len(piece)

    def _wants_json(self) -> bool:
        return "application/json" in self.headers.get("Accept", "")

    def _send_message(self, status: int, message: str) -> None:
        """An error, as JSON for the page or as plain text for anything else."""
        if self._wants_json():
            self._send_json(status, {"error": message})
        else:
            self._send_bytes(message.encode("utf-8") + b"\n", "text/plain; charset=utf-8", status=status)

    def _send_json(self, status: int, value: Any) -> None:
        self._send_bytes(json.dumps(value).encode("utf-8"), "application/json", status=status)

    def _send(self, path: Path, content_type: str) -> None:
        if not path.is_file():
            self.send_error(404, f"{path.name} is not built: run `make widget`")
            return
        self._send_bytes(path.read_bytes(), content_type)

    def _send_bytes(
        self, body: bytes, content_type: str, headers: Optional[Dict[str, str]] = None, status: int = 200
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write("%s - %s\n" % (self.address_string(), format % args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--rasa-url", default=DEFAULT_RASA_URL)
    args = parser.parse_args()
    handler = functools.partial(DemoHandler, directory=str(DEMO))
    DemoHandler.rasa_url = args.rasa_url.rstrip("/")
    server = http.server.ThreadingHTTPServer((args.host, args.port), handler)
    print(
        f"Demo careers site on http://localhost:{args.port}/ (assistant: {DemoHandler.rasa_url})", flush=True
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
