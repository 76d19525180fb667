"""/docs is Swagger UI from bundled assets: no external URL, and every asset it loads answers 200."""

import re

from fastapi.testclient import TestClient

from pressqa.settings import Settings
from service.api import create_app
from test_first_run import FakeChain, fake_runtime


def test_docs_load_no_external_resource(tmp_path):
    app = create_app(Settings(data=tmp_path / "data", llm_backend="none", api_keys=""), fake_runtime(FakeChain(with_statuses=False)))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        page = client.get("/docs")
        assert page.status_code == 200
        assert not re.search(r"(?:src|href)=['\"]https?://", page.text), page.text
        assets = re.findall(r"(?:src|href)=['\"](/[^'\"]+)['\"]", page.text)
        assert any(a.endswith("swagger-ui-bundle.js") for a in assets) and any(a.endswith(".css") for a in assets)
        for asset in assets:
            assert client.get(asset).status_code == 200, asset
        assert "bearer" in client.get("/openapi.json").text.lower()
