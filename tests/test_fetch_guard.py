"""Fetching URLs that strangers may choose: http(s) only, bounded time, size and redirects,
public addresses only unless allowed (every redirect hop re-checked), and saved names that
never leave the articles folder. Real HTTP servers on 127.0.0.1 (and, for the redirect case,
on a public address inside a private network namespace)."""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import textwrap
import zlib
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from helpers import PageHandler, http_site
from newsqa.index import ArticleFetcher, ArticleInbox, FetchedPage, FetchError, UnsupportedUrl
from newsqa.index.fetch import ForbiddenAddress, UnsupportedContent, forbidden_reason

STORY = b"Ferry service resumes on the northern route\n\nThe ferry between Skarn and Lowe resumed on Friday.\n"


class Pages(PageHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/story":
            self.send_page(STORY)
        elif self.path == "/drip":  # one byte at a time, each well inside the read timeout
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            try:
                for _ in range(200):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                pass
        elif self.path.startswith("/hop"):
            hops = int(self.path[4:] or 0)
            self.send_response(302)
            self.send_header("Location", f"/hop{hops + 1}" if hops < 10 else "/story")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_error(404)



@pytest.fixture(scope="module")
def site():
    with http_site(Pages) as url:
        yield url


@pytest.mark.parametrize(("address", "reason"), [
    ("127.0.0.1", "loopback"), ("127.9.9.9", "loopback"), ("::1", "loopback"),
    ("::ffff:127.0.0.1", "loopback"), ("10.1.2.3", "private"), ("192.168.0.10", "private"),
    ("172.16.5.4", "private"), ("fc00::1", "private"), ("169.254.169.254", "link-local"),
    ("fe80::1%eth0", "link-local"), ("224.0.0.251", "multicast"), ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("240.0.0.1", "reserved"),
    ("100.64.0.1", "not public"), ("93.184.216.34", None), ("2606:4700:4700::1111", None),
    ("2002:7f00:1::1", "6to4"), ("2002:5db8:d822::1", "6to4"), ("fec0::1", "site-local"),
    ("feff:ffff::1", "site-local"), ("64:ff9b::7f00:1", "NAT64"), ("2001:0:4136:e378::1", "Teredo"),
])
def test_which_addresses_a_chat_user_may_make_the_bot_fetch(address, reason):
    assert forbidden_reason(address) == reason


def test_private_addresses_are_refused_unless_allowed(site):
    for url in (f"{site}/story", f"http://localhost:{site.rsplit(':', 1)[1]}/story"):
        with pytest.raises(ForbiddenAddress, match=r"resolves to (127\.0\.0\.1|::1), a loopback address"):
            ArticleFetcher(allow_private=False).fetch(url)
    page = ArticleFetcher(allow_private=True).fetch(f"{site}/story")
    assert page.body == STORY and page.url == f"{site}/story"


@pytest.mark.parametrize("url", ["ftp://example.org/a.txt", "file:///etc/passwd", "gopher://x/1",
                                 "javascript:alert(1)", "http:///nohost", "data:text/plain,hi"])
def test_only_http_and_https_are_fetched(url):
    for allow_private in (True, False):
        with pytest.raises(UnsupportedUrl, match="only http:// and https://"):
            ArticleFetcher(allow_private=allow_private).fetch(url)


def test_time_size_and_redirects_are_bounded(site):
    with pytest.raises(FetchError, match=r"no answer within 1 s"):  # each byte comes in time, the whole not
        ArticleFetcher(timeout=1).fetch(f"{site}/drip")
    with pytest.raises(FetchError, match="more than 5 redirects"):
        ArticleFetcher().fetch(f"{site}/hop0")
    assert ArticleFetcher(max_redirects=11).fetch(f"{site}/hop0").url == f"{site}/story"
    with pytest.raises(FetchError, match="over the limit of 20$"):
        ArticleFetcher(max_bytes=20).fetch(f"{site}/story")


REDIRECT_CHECK = textwrap.dedent('''
    import subprocess, sys, threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from newsqa.index import ArticleFetcher
    from newsqa.index.fetch import ForbiddenAddress

    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", "1.2.3.4/32", "dev", "lo"], check=True)

    class Pages(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/story":
                body = b"A public story\\n\\nThe ferry resumed on Friday, captained by Harriet Quayle.\\n"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                self.send_response(302)
                self.send_header("Location", self.path[len("/to"):])
                self.send_header("Content-Length", "0")
                self.end_headers()
        def log_message(self, *args):
            pass

    servers = [ThreadingHTTPServer((host, 8080), Pages) for host in ("1.2.3.4", "127.0.0.1")]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    fetcher = ArticleFetcher(allow_private=False, timeout=5)
    print("public:", fetcher.fetch("http://1.2.3.4:8080/story").url)
    print("via public redirect:", fetcher.fetch("http://1.2.3.4:8080/tohttp://1.2.3.4:8080/story").url)
    try:
        fetcher.fetch("http://1.2.3.4:8080/tohttp://127.0.0.1:8080/story")
    except ForbiddenAddress as error:
        print("refused:", error)
    print("allowed:", ArticleFetcher(allow_private=True).fetch("http://1.2.3.4:8080/tohttp://127.0.0.1:8080/story").url)
''')


def test_every_redirect_hop_is_checked_again():
    """A public page that redirects to a loopback one is refused at the second hop. Runs in a
    network namespace of its own, where 1.2.3.4 is a (public) address on the loopback device."""
    missing = [tool for tool in ("unshare", "ip") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} on PATH (util-linux, iproute2)")
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"needs `unshare --net` (root, or unprivileged user namespaces): {probe.stderr.strip()}")
    result = subprocess.run(["unshare", "--net", sys.executable, "-c", REDIRECT_CHECK],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "public: http://1.2.3.4:8080/story",
        "via public redirect: http://1.2.3.4:8080/story",
        "refused: http://1.2.3.4:8080/tohttp://127.0.0.1:8080/story: refusing to fetch from 127.0.0.1 "
        "(redirected to http://127.0.0.1:8080/story): it resolves to 127.0.0.1, a loopback address",
        "allowed: http://127.0.0.1:8080/story",
    ]


HOSTILE_URLS = [
    "http://example.org/../../x",
    "http://example.org/%2e%2e/%2e%2e/etc/passwd",
    "http://example.org/..%2F..%2Fx.txt",
    "http://example.org/a%00b.html",
    "http://example.org//etc/passwd",
    "http://example.org/C:%5CWindows%5Cwin.ini",
    "http://example.org/" + "long-" * 400,
    "http://example.org/.hidden",
    "http://example.org/%E2%80%AEtxt.exe",
    "http://[::1]:8080/",
    "http://example.org/\u202e\u200b\U0001F600",
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_saved_page_never_leaves_the_articles_folder(tmp_path, url):
    articles = tmp_path / "articles"
    articles.mkdir()
    page = FetchedPage(url=url, requested_url=url, media_type="text/plain", charset="utf-8", body=STORY)
    saved = ArticleInbox(articles).save_page(page)
    assert saved.path.parent == articles.resolve()
    assert not saved.path.name.startswith(".") and "\x00" not in saved.path.name
    assert len(saved.path.name.encode()) <= 255
    assert saved.source == url
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file() and not p.name.startswith(".")) \
        == [saved.path.name]


@pytest.mark.parametrize("name", ["..txt", "...txt", "-.txt", "a\\..\\..\\b.txt", "\u202eevil.txt",
                                  "x" * 250 + ".txt", " .txt", "con.txt"])
def test_a_copied_file_never_leaves_the_articles_folder(tmp_path, name):
    articles, outside = tmp_path / "articles", tmp_path / "outside"
    articles.mkdir()
    outside.mkdir()
    source = outside / name
    source.write_bytes(STORY)
    saved = ArticleInbox(articles).copy_file(source)
    assert saved.path.parent == articles.resolve() and not saved.path.name.startswith(".")
    assert Path(saved.path).read_bytes() == STORY


# -- compression bombs, one deadline for the whole fetch, DNS that never answers ---------------
class SlowAndCompressed(PageHandler):
    accept_encodings: list[str | None] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        SlowAndCompressed.accept_encodings.append(self.headers.get("Accept-Encoding"))
        if self.path in ("/zstd", "/gzip"):
            encoding = self.path[1:]
            body = (_zstd_bomb() if encoding == "zstd" else _gzip_bomb())
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Encoding", encoding)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/slow":  # each wait well inside the budget, the sum of them not
            time.sleep(0.9)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(STORY)))
            self.end_headers()
            self.wfile.flush()
            time.sleep(0.9)
            try:
                self.wfile.write(STORY)
            except OSError:
                pass


@functools.cache
def _gzip_bomb() -> bytes:
    """200 MB of "x" gzipped (~200 KB on the wire), compressed piece by piece."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    piece = b"x" * 1_000_000
    return b"".join([compressor.compress(piece) for _ in range(200)] + [compressor.flush()])


@functools.cache
def _zstd_bomb() -> bytes:
    """1 GB of "x" in zstd (~30 KB on the wire), compressed piece by piece."""
    import zstandard

    compressor = zstandard.ZstdCompressor(level=3).compressobj()
    piece = b"x" * 1_000_000
    return b"".join([compressor.compress(piece) for _ in range(1000)] + [compressor.flush()])


@pytest.fixture(scope="module")
def slow_site():
    with http_site(SlowAndCompressed) as url:
        yield url


@pytest.mark.parametrize("encoding", ["gzip", "zstd"])
def test_a_compressed_body_is_refused_not_inflated(slow_site, encoding):
    """The fetcher asks for `identity` and refuses a compressed body, reading only the bytes sent:
    inflating these would take 200 MB / 1 GB of memory before the size cap could say no."""
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(UnsupportedContent, match=f"sent a {encoding}-compressed body"):
        ArticleFetcher(max_bytes=5_000_000).fetch(f"{slow_site}/{encoding}")
    assert SlowAndCompressed.accept_encodings[-1] == "identity"
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KB: nothing inflated


def test_the_timeout_is_one_deadline_for_the_whole_fetch(slow_site):
    started = time.monotonic()
    with pytest.raises(FetchError, match="no answer within 1 s"):
        ArticleFetcher(timeout=1).fetch(f"{slow_site}/slow")  # headers at 0.9 s, body at 1.8 s
    assert time.monotonic() - started < 1.4
    assert ArticleFetcher(timeout=3).fetch(f"{slow_site}/slow").body == STORY


DNS_BLACK_HOLE = textwrap.dedent('''
    import os, socket, subprocess, tempfile, threading, time
    from newsqa.index import ArticleFetcher, FetchError

    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    # A name server that takes every query and never answers.
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as conf:
        conf.write("nameserver 127.0.0.1\\noptions timeout:30 attempts:1\\n")
    subprocess.run(["mount", "--bind", conf.name, "/etc/resolv.conf"], check=True)
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 53))

    def threads():
        return len(os.listdir(f"/proc/{os.getpid()}/task"))

    before = threads()
    for allow_private in (False, True):
        started = time.monotonic()
        try:
            ArticleFetcher(timeout=1, allow_private=allow_private).fetch("http://stuck.example.org/story")
        except FetchError as error:
            print(f"{allow_private}: {error} after {time.monotonic() - started:.0f} s")
    print("queries seen:", len(silent.recvfrom(512)[0]) > 0)
    time.sleep(0.2)
    print("threads left behind:", threads() - before)
''')


def test_a_dns_lookup_that_never_answers_ends_at_the_deadline_and_leaves_no_thread():
    """In a network and mount namespace of its own, /etc/resolv.conf names a server on 127.0.0.1
    that never answers (the resolver would wait 30 s)."""
    missing = [tool for tool in ("unshare", "ip", "mount", "getent") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} on PATH")
    probe = subprocess.run(["unshare", "--net", "--mount", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"needs `unshare --net --mount` (root, or unprivileged user namespaces): {probe.stderr.strip()}")
    result = subprocess.run(["unshare", "--net", "--mount", sys.executable, "-c", DNS_BLACK_HOLE],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "False: http://stuck.example.org/story: no answer within 1 s (resolving stuck.example.org) after 1 s",
        "True: http://stuck.example.org/story: no answer within 1 s (resolving stuck.example.org) after 1 s",
        "queries seen: True",
        "threads left behind: 0",
    ]


def test_every_address_of_a_host_is_tried_in_turn(site):
    """A name that resolves to ::1 first while the server listens on 127.0.0.1 only (a common
    /etc/hosts) is still fetched: the next address is tried when one refuses the connection."""
    missing = [tool for tool in ("unshare", "mount", "getent") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} on PATH")
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"needs `unshare --mount` (root, or unprivileged user namespaces): {probe.stderr.strip()}")
    script = textwrap.dedent(f'''
        import subprocess, tempfile
        from newsqa.index import ArticleFetcher
        with tempfile.NamedTemporaryFile("w", suffix=".hosts", delete=False) as hosts:
            hosts.write("::1 twofold.test\\n127.0.0.1 twofold.test\\n")
        subprocess.run(["mount", "--bind", hosts.name, "/etc/hosts"], check=True)
        print(subprocess.run(["getent", "ahosts", "twofold.test"], capture_output=True, text=True).stdout.split()[0])
        print(ArticleFetcher(timeout=5).fetch("http://twofold.test:{site.rsplit(":", 1)[1]}/story").body.decode())
    ''')
    result = subprocess.run(["unshare", "--mount", sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "::1"  # the address that refuses comes first
    assert result.stdout.split("\n", 1)[1] == STORY.decode() + "\n"
