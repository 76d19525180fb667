"""Every API route fuzzed from the app's own OpenAPI schema (schemathesis, in-process ASGI), plus the hostile
edges of the API: traversal in upload names and release ids, and auth hygiene (constant-time keys, no CORS,
no key in the logs).

Also covered elsewhere: 413/415 upload limits and one hostile upload name in test_api_native.py, CORS on a
simple GET there too, LLM backends failing in test_api_backends.py.
"""

import inspect
import logging
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis import strategies as st

from pressqa.settings import REPO_ROOT, Settings
from support import report_line

# TrustedHostMiddleware answers only the configured hosts; TestClient's default 'testserver' is not one.
LOCAL = "http://127.0.0.1"

SEED = REPO_ROOT / "corpus/seed/china-central-asia-foreign-ministers-meeting.txt"
SEED_URL_PART = "china-central-asia"
CASES = {"count": 0, "by_status": {}}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The real app over a real index of the seed release; LLM off (the chain answers with the quote)."""
    from service.api import create_app
    from pressqa.runtime import Runtime

    root = tmp_path_factory.mktemp("apifuzz")
    settings = Settings(data=root / "data", corpus=root / "no-corpus", chroma_url=None, llm_backend="none",
                        max_upload_bytes=64_000, max_request_bytes=16_000,
                        # schemathesis' in-process ASGI client sends Host: testserver.
                        allowed_hosts="127.0.0.1,localhost,testserver")
    runtime = Runtime(settings)
    assert runtime.indexer.ingest([SEED]).added == 1
    app = create_app(settings, runtime)
    app.state.startup.start()  # schemathesis calls the ASGI app without a lifespan
    app.state.startup.join(300)
    assert app.state.startup.ready.is_set(), app.state.startup.error
    return app


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@schemathesis.check
def no_traceback(ctx, response, case):
    text = response.text if hasattr(response, "text") else response.content.decode("utf-8", "replace")
    if "Traceback" in text or 'File "/' in text:
        raise AssertionError(f"a traceback in the body of {case.method} {case.path}")


# Per route and mode; the chat routes run the whole chain (about 0.1 s each), the rest answer in milliseconds.
EXAMPLES = 30


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE], ids=str)
def test_no_route_answers_500_or_a_traceback(api_schema, mode):
    # Driven by hand rather than schemathesis' pytest plugin, which does not run under this pytest version.
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 8, [op.label for op in operations]
    tried: dict[str, list] = {"no negative case": []}
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case):
            response = case.call()
            CASES["count"] += 1
            CASES["by_status"][response.status_code] = CASES["by_status"].get(response.status_code, 0) + 1
            case.validate_response(response, checks=[schemathesis.checks.not_a_server_error, no_traceback])

        try:
            fuzz()
        except Unsatisfiable:  # a route without parameters or body has no invalid request to make
            assert mode == schemathesis.GenerationMode.NEGATIVE, operation.label
            tried["no negative case"].append(operation.label)
    print(f"{mode}: {dict(tried)}")


# --- traversal: names and ids never become paths ---------------------------------------------------------------

HOSTILE_NAMES = [
    "../../etc/passwd.txt", "..%2F..%2Fetc%2Fpasswd.txt", "/etc/passwd.txt", "C:\\Windows\\system32\\x.txt",
    "....//....//x.txt", "..\\..\\x.md", "\x00../x.txt", "％２Ｆ..／..／x.txt", "~/.ssh/id_rsa.txt", "a/" * 300 + "x.txt",
]


def files_under(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*")}


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_upload_names_never_reach_outside_the_data_dir(app, tmp_path, name):
    root = app.state.settings.data.parent
    before = files_under(root)
    body = f"Title: Traversal probe\n\nThe Quorvex board met on Friday to discuss {len(name)} filing cabinets.\n"
    with TestClient(app, base_url=LOCAL) as client:
        listed = lambda: {r["id"]: r for r in client.get("/api/releases", params={"limit": 200}).json()["items"]}  # noqa: E731
        known = listed()
        response = client.post("/api/releases", files={"files": (name, body.encode(), "text/plain")})
        assert response.status_code in (200, 415), response.text
        if response.status_code == 200:
            new = {rid: r for rid, r in listed().items() if rid not in known}
            origins = [r["origin"] for r in new.values()]
            assert origins and all("/" not in o and "\\" not in o and not o.startswith(".") for o in origins), origins
            for rid in new:
                assert client.delete(f"/api/releases/{rid}").status_code == 200
    # Nothing new next to the data dir, nothing at the named places.
    assert {p for p in files_under(root) - before if not p.startswith("data/")} == set()
    assert not Path("/etc/passwd.txt").exists() and not (Path.home() / ".ssh/id_rsa.txt").exists()


@settings(max_examples=200, deadline=None)
@given(name=st.text(max_size=300))
def test_safe_upload_name_is_a_bare_name(name):
    from service.api.routes.releases import safe_upload_name

    CASES["count"] += 1
    safe = safe_upload_name(name)
    assert safe and "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert not safe.startswith(".") and ".." not in safe and len(safe) <= 120


@pytest.mark.parametrize(
    "release_id",
    ["../../etc/passwd", "..%2F..%2Fchroma%2Fchroma.sqlite3", "/etc/passwd", "%2e%2e%2f%2e%2e%2fdata", "data/chroma/chroma.sqlite3", "*", "%"],
)
def test_traversal_release_ids_read_and_delete_nothing(app, release_id):
    with TestClient(app, base_url=LOCAL) as client:
        total = client.get("/api/releases").json()["total"]
        for method in ("GET", "DELETE"):
            response = client.request(method, f"/api/releases/{release_id}")
            assert response.status_code == 404, (method, response.text)
            assert "root:" not in response.text and "SQLite" not in response.text
        assert client.get("/api/releases").json()["total"] == total


def test_upload_count_and_type_limits(app):
    with TestClient(app, base_url=LOCAL) as client:
        many = [("files", (f"r{i}.txt", b"Title: T\n\nBody text here.", "text/plain")) for i in range(21)]
        assert client.post("/api/releases", files=many).status_code == 400
        for name in ("x.exe", "x.txt.exe", "x.php", "x", ".txt", "x.pdf"):
            response = client.post("/api/releases", files={"files": (name, b"MZ\x90\x00 hello", "text/plain")})
            assert response.status_code in (400, 415), (name, response.text)
        too_big = client.post("/api/releases", files={"files": ("big.txt", b"word " * 20_000, "text/plain")})
        assert too_big.status_code == 413 and too_big.json()["error"]["type"] == "request_too_large"


# --- auth hygiene ----------------------------------------------------------------------------------------------


def test_api_keys_are_compared_in_constant_time():
    import ast
    import textwrap

    from service.api import auth

    matcher = textwrap.dedent(inspect.getsource(auth._key_matches))
    tree = ast.parse(matcher)
    # hmac.compare_digest for every key, and no ==/in comparison or early return that would leak timing.
    assert "hmac.compare_digest" in matcher
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Compare)], matcher
    assert sum(isinstance(n, ast.Return) for n in ast.walk(tree)) == 1
    assert "_key_matches(" in inspect.getsource(auth.authorized)
    # Both checks (the middleware before the body, the routers' dependency) go through it.
    assert "authorized(" in inspect.getsource(auth.ApiKeyMiddleware) and "authorized(" in inspect.getsource(auth.require_api_key)
    assert auth._key_matches("k2", ["k1", "k2"]) and not auth._key_matches("k", ["k1", "k2"]) and not auth._key_matches("", ["k1"])


def test_cors_is_off_by_default(app):
    with TestClient(app, base_url=LOCAL) as client:
        evil = {"Origin": "https://evil.example"}
        preflight = client.options("/api/ask", headers={**evil, "Access-Control-Request-Method": "POST",
                                                          "Access-Control-Request-Headers": "authorization,content-type"})
        assert "access-control-allow-origin" not in preflight.headers
        for response in (client.post("/api/ask", json={"question": "Who?"}, headers=evil),
                         client.get("/v1/models", headers=evil), client.get("/", headers=evil)):
            assert not any(h.startswith("access-control-") for h in response.headers), response.headers


def test_no_secret_in_logs(app, caplog):
    from service.api import create_app

    key, llm_key = "sk-pressqa-secret-7c1e9a", "sk-llm-secret-55aa"
    settings = app.state.settings.model_copy(update={"api_keys": f"other-key,{key}", "llm_api_key": llm_key})
    keyed = create_app(settings, app.state.runtime)
    keyed.state.startup.ready.set()
    caplog.set_level(logging.DEBUG)
    with TestClient(keyed, base_url=LOCAL) as client:
        for token in (key, key + "x", "wrong"):
            auth = {"Authorization": f"Bearer {token}"}
            client.post("/api/ask", json={"question": "Who represented Turkmenistan?"}, headers=auth)
            client.get("/api/releases/does-not-exist", headers=auth)
            client.post("/api/ask", content=b"{broken", headers={**auth, "Content-Type": "application/json"})
        assert client.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    logged = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    assert caplog.records, "nothing was logged: the check would prove nothing"
    assert key not in logged and llm_key not in logged


@pytest.fixture(scope="module", autouse=True)
def report_counts(request):
    yield
    report_line(request, f"\nAPI fuzz: {CASES['count']} cases tried (schemathesis + upload names), statuses {dict(sorted(CASES['by_status'].items()))}")
