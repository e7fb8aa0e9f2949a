"""Fast pages: scripts and styles under fingerprinted names cached for good, an import map allowed by
its hash, each area's modules preloaded on its own pages only, compressed answers, search engines
kept out of private pages, WebP covers at the sizes pages show, and a light API docs page.
(The speed itself is measured by bench/lighthouse.py, not here.)"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import shutil

import pytest
from PIL import Image

from config import PROJECT_ROOT
from marketplace.accounts.models import Role
from tests.conftest import make_test_app
from tests.media import make_beat
from tests.test_errors import assert_envelope

STATIC = PROJECT_ROOT / "static"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
YEAR = 31536000


def import_map(html: str) -> dict[str, str]:
    found = re.search(r'<script type="importmap">(.*?)</script>', html, re.DOTALL)
    assert found, "the page names its modules' files in an import map"
    return json.loads(found.group(1))["imports"]


def preloads(html: str) -> list[str]:
    return re.findall(r'<link rel="modulepreload" href="([^"]+)">', html)


def script_src(policy: str) -> str:
    return next(part for part in policy.split("; ") if part.startswith("script-src"))


# -- fingerprinted names, cached for good; the shell is not ------------------------------------------------

def test_the_shell_names_fingerprinted_files_cached_for_a_year(client):
    shell = client.get("/", headers=BROWSER)
    assert shell.status_code == 200 and shell.headers["Cache-Control"] == "no-cache"
    html = shell.get_data(as_text=True)
    main = re.search(r'<script type="module" src="(/static/app/main\.[0-9a-f]{12}\.js)"', html).group(1)
    styles = re.search(r'<link rel="stylesheet" href="(/static/app/styles\.[0-9a-f]{12}\.css)"',
                       html).group(1)
    for address, plain in ((main, "app/main.js"), (styles, "app/styles.css")):
        answer = client.get(address)
        assert answer.status_code == 200
        assert answer.headers["Cache-Control"] == f"public, max-age={YEAR}, immutable"
        assert answer.data == (STATIC / plain).read_bytes()
        digest = hashlib.sha256(answer.data).hexdigest()[:12]
        assert address.endswith(f".{digest}.js") or address.endswith(f".{digest}.css"), "named by its content"


def test_every_module_is_in_the_import_map_under_its_current_name(client):
    html = client.get("/", headers=BROWSER).get_data(as_text=True)
    modules = import_map(html)
    on_disk = {"/static/" + path.relative_to(STATIC).as_posix() for path in (STATIC / "app").rglob("*.js")}
    assert set(modules) == on_disk
    for plain, fingerprinted in modules.items():
        answer = client.get(fingerprinted)
        assert answer.status_code == 200 and "immutable" in answer.headers["Cache-Control"], plain
        assert answer.data == (STATIC / plain.removeprefix("/static/")).read_bytes()


def test_a_stale_fingerprint_answers_todays_file_not_cached(client):
    """A page left open across a release asks for an area's module by last release's name."""
    for address in ("/static/app/store/index.000000000000.js", "/static/app/store/index.js"):
        answer = client.get(address)
        assert answer.status_code == 200, address
        assert answer.headers["Cache-Control"] == "no-cache"
        assert answer.data == (STATIC / "app/store/index.js").read_bytes()
        assert answer.mimetype in ("text/javascript", "application/javascript")
    unknown = client.get("/static/app/store/nothing.0123456789ab.js", headers=BROWSER)
    assert_envelope(unknown, 404, "not_found")
    assert_envelope(client.get("/static/app/../../config.py", headers=BROWSER), 404, "not_found")


def test_a_fingerprinted_file_answers_304_to_its_etag(client):
    html = client.get("/", headers=BROWSER).get_data(as_text=True)
    address = import_map(html)["/static/app/api.js"]
    etag = client.get(address).headers["ETag"]
    assert client.get(address, headers={"If-None-Match": etag}).status_code == 304


def test_a_module_added_later_is_mapped_and_preloaded_without_a_list(database_factory, tmp_path):
    """Modules another change adds are found by reading the folder: nothing to list by hand."""
    static = tmp_path / "static"
    shutil.copytree(STATIC, static, ignore=shutil.ignore_patterns("vendor"))
    app = make_test_app(database_factory())
    app.static_folder = str(static)
    client = app.test_client()
    before = client.get("/beats/bt_x", headers=BROWSER).get_data(as_text=True)
    (static / "app/store/charts.js").write_text('import { h } from "../ui.js";\nexport const charts = h;\n')
    index = static / "app/store/index.js"
    index.write_text('import { charts } from "./charts.js";\n' + index.read_text())
    after = client.get("/beats/bt_x", headers=BROWSER).get_data(as_text=True)
    assert "/static/app/store/charts.js" not in import_map(before)
    charts = import_map(after)["/static/app/store/charts.js"]
    assert charts in preloads(after)
    assert import_map(after)["/static/app/store/index.js"] != import_map(before)["/static/app/store/index.js"]
    assert client.get(charts).headers["Cache-Control"].endswith("immutable")


# -- each area's modules on its own pages ------------------------------------------------------------------

@pytest.mark.parametrize("path, area, others", [
    ("/", "store", ("studio", "admin")),
    ("/beats/bt_x", "store", ("studio", "admin")),
    ("/studio/upload", "studio", ("admin",)),
    ("/admin/reports", "admin", ("studio",)),
])
def test_a_page_preloads_its_own_area_and_no_other(client, path, area, others):
    html = client.get(path, headers=BROWSER).get_data(as_text=True)
    loaded = preloads(html)
    assert any(address.startswith("/static/app/main.") for address in loaded)
    assert any(address.startswith(f"/static/app/{area}/index.") for address in loaded)
    for other in others:
        assert not [address for address in loaded if address.startswith(f"/static/app/{other}/")], other
    modules = import_map(html)
    assert set(loaded) <= set(modules.values())


def test_the_loader_imports_no_area_statically():
    """main.js loads the store, studio, admin and account pages with import() when visited."""
    source = (STATIC / "app/main.js").read_text()
    static_imports = re.findall(r'^import .* from "([^"]+)";', source, re.MULTILINE)
    assert not [name for name in static_imports if name.endswith("/index.js") or name == "./account.js"]
    for area in ("./store/index.js", "./studio/index.js", "./admin/index.js", "./account.js"):
        assert f'import("{area}")' in source


# -- CSP: the import map by its hash, never unsafe-inline --------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/studio", "/admin", "/signin", "/no-such-page"])
def test_the_page_policy_allows_only_its_import_map(client, path):
    response = client.get(path, headers=BROWSER)
    html = response.get_data(as_text=True)
    scripts = re.findall(r"<script((?: [^>]*)?)>(.*?)</script>", html, re.DOTALL)
    # The module script has a src and no body; a JSON data block (the page's first data) is never run.
    inline = [body for attributes, body in scripts if body and 'type="application/json"' not in attributes]
    assert len(inline) == 1, "one inline script: the import map"
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    policy = response.headers["Content-Security-Policy"]
    assert script_src(policy) == f"script-src 'self' 'sha256-{digest}'"
    assert "unsafe" not in policy


# -- compression -------------------------------------------------------------------------------------------

def test_scripts_styles_and_the_spec_are_gzipped_for_clients_that_accept_it(client):
    html = client.get("/", headers=BROWSER).get_data(as_text=True)
    addresses = [import_map(html)["/static/app/account.js"],
                 re.search(r'href="(/static/app/styles\.[0-9a-f]+\.css)"', html).group(1),
                 "/api/v1/openapi.json", "/static/vendor/swagger-ui/swagger-ui-bundle.js"]
    for address in addresses:
        plain = client.get(address)
        assert "Content-Encoding" not in plain.headers, address
        packed = client.get(address, headers={"Accept-Encoding": "gzip"})
        assert packed.headers["Content-Encoding"] == "gzip", address
        assert "Accept-Encoding" in packed.headers["Vary"]
        assert gzip.decompress(packed.data) == plain.data
        assert len(packed.data) < len(plain.data) / 2, address
    spec = client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert json.loads(gzip.decompress(spec.data))["info"]["title"]
    page = client.get("/", headers={**BROWSER, "Accept-Encoding": "br, gzip"})
    assert page.headers["Content-Encoding"] == "br" and page.headers["Cache-Control"] == "no-cache"


def test_compression_can_be_left_to_the_proxy(database_factory):
    app = make_test_app(database_factory(), COMPRESS_RESPONSES=False)
    answer = app.test_client().get("/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200 and "Content-Encoding" not in answer.headers


# -- search engines ----------------------------------------------------------------------------------------

PRIVATE = ["/studio", "/studio/upload", "/admin", "/admin/users", "/library", "/account", "/orders", "/cart",
           "/licenses/lic_x", "/payouts", "/reset-password", "/unsubscribe"]
PUBLIC = ["/", "/beats/bt_x", "/p/someone", "/licenses/verify", "/licenses/verify/ABC-123", "/signin",
          "/signup"]


@pytest.mark.parametrize("path", PRIVATE)
def test_private_pages_tell_search_engines_to_stay_out(client, path):
    response = client.get(path, headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert '<meta name="robots" content="noindex, nofollow">' in response.get_data(as_text=True)


@pytest.mark.parametrize("path", PUBLIC)
def test_store_pages_are_for_search_engines_with_a_description(client, path):
    response = client.get(path, headers=BROWSER)
    html = response.get_data(as_text=True)
    assert "X-Robots-Tag" not in response.headers and 'name="robots"' not in html
    description = re.search(r'<meta name="description" content="([^"]+)">', html)
    assert description and len(description.group(1)) > 50


def test_robots_txt_keeps_crawlers_out_of_every_private_section(client):
    rules = [line.split(":", 1) for line in client.get("/robots.txt").text.splitlines()
             if line and not line.startswith("#")]
    disallowed = {value.strip() for name, value in rules if name.strip().lower() == "disallow"}
    from marketplace.web import PRIVATE_SECTIONS

    assert {f"/{section}" for section in PRIVATE_SECTIONS} | {"/api"} <= disallowed | {"/licenses"}
    for path in disallowed:
        if path != "/api":
            page = client.get(path.rstrip("/") + "/x", headers=BROWSER)
            assert page.headers.get("X-Robots-Tag") == "noindex, nofollow", path


# -- the API docs page -------------------------------------------------------------------------------------

def test_the_docs_page_has_a_language_a_viewport_and_no_unused_preset(client):
    response = client.get("/api/v1/docs")
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert re.search(r'<meta name="description" content="[^"]{40,}">', html)
    assert "standalone-preset" not in html
    assert not re.search(r"<script>", html), "started by a file, not an inline script"
    assert script_src(response.headers["Content-Security-Policy"]) == "script-src 'self'"
    # Swagger UI's 1.4 MB script is named for the console button, not loaded with the page.
    bundle = re.search(r'data-console-script="(/static/vendor/swagger-ui/'
                       r'swagger-ui-bundle\.[0-9a-f]{12}\.js)', html).group(1)
    assert not re.search(r'<script[^>]*swagger-ui-bundle', html)
    assert client.get(bundle).headers["Cache-Control"].endswith("immutable")
    start = re.search(r'src="(/static/docs/start\.[0-9a-f]{12}\.js)"', html).group(1)
    assert b"SwaggerUIBundle" in client.get(start).data


def test_the_docs_page_lists_every_operation_as_html(client):
    """Readers (and search engines) see every endpoint without running a script."""
    html = client.get("/api/v1/docs").get_data(as_text=True)
    spec = client.get("/api/v1/openapi.json").json
    for path, item in spec["paths"].items():
        for method in ("get", "post", "put", "patch", "delete"):
            if method in item:
                listed = rf'>{method.upper()}</span>\s*<code>{re.escape(path)}</code>'
                assert re.search(listed, html), (method, path)


# -- WebP covers -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cover_upload(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cover-media")
    picture = Image.new("RGB", (900, 700), (200, 40, 90))
    cover = io.BytesIO()
    picture.save(cover, "PNG")
    return make_beat(folder / "beat.wav", seconds=10), cover.getvalue()


def test_covers_come_as_webp_at_the_sizes_pages_show(client, make_user, headers_for, cover_upload):
    master, cover = cover_upload
    headers = headers_for(make_user(Role.BEATMAKER, "Metro"))
    created = client.post("/api/v1/beats", headers=headers, content_type="multipart/form-data", data={
        "title": "Night Drive", "bpm": "140", "file": (io.BytesIO(master.read_bytes()), "beat.wav"),
        "cover": (io.BytesIO(cover), "cover.png")})
    assert created.status_code == 202, created.json
    address = f"/api/v1/beats/{created.json['id']}/cover"
    for size in (600, 300):
        answer = client.get(f"{address}?size={size}", headers=headers)
        assert answer.status_code == 200 and answer.mimetype == "image/webp", size
        image = Image.open(io.BytesIO(answer.data))
        assert image.format == "WEBP" and max(image.size) == size and image.size[0] > image.size[1]
    for size in (1400, 400):  # the JPEG renditions stay, for other uses
        answer = client.get(f"{address}?size={size}", headers=headers)
        assert answer.mimetype == "image/jpeg"
        assert max(Image.open(io.BytesIO(answer.data)).size) == min(size, 900)
    assert len(client.get(f"{address}?size=300", headers=headers).data) < \
        len(client.get(f"{address}?size=400", headers=headers).data)


def test_a_cover_stored_before_webp_answers_its_jpeg(app, client, make_user, headers_for, cover_upload,
                                                     storage_root):
    from marketplace.catalog.models import Beat
    from marketplace.db import db

    master, cover = cover_upload
    headers = headers_for(make_user(Role.BEATMAKER, "Older"))
    created = client.post("/api/v1/beats", headers=headers, content_type="multipart/form-data", data={
        "title": "Old Cover", "bpm": "90", "file": (io.BytesIO(master.read_bytes()), "beat.wav"),
        "cover": (io.BytesIO(cover), "cover.png")})
    with app.app_context():
        key = db.session.get(Beat, created.json["id"]).cover_key
    for size in (600, 300):
        (storage_root / key.replace("/1400.jpg", f"/{size}.webp")).unlink()
    answer = client.get(f"/api/v1/beats/{created.json['id']}/cover?size=300", headers=headers)
    assert answer.status_code == 200 and answer.mimetype == "image/jpeg"
    assert max(Image.open(io.BytesIO(answer.data)).size) == 400


def test_an_unknown_cover_size_is_refused_in_words(client):
    answer = client.get("/api/v1/beats/bt_missing/cover?size=301")
    assert answer.status_code == 422 and "size" in json.dumps(answer.json["error"]["details"])



# -- the first content comes with the page -----------------------------------------------------------------

def first_answers(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="first-answers">(.*?)</script>', html, re.DOTALL)
    return json.loads(found.group(1)) if found else {}


@pytest.fixture
def listed_beat(app, make_user):
    """A published beat, titled with text that would end a script block."""
    from marketplace.accounts.models import User
    from marketplace.catalog import services as catalog
    from marketplace.db import db

    owner_id = make_user(Role.BEATMAKER, "Metro")
    with app.app_context():
        owner = db.session.get(User, owner_id)
        beat = catalog.create_beat(owner, title="Night </script><script>alert(1)</script>", bpm=140)
        beat.preview_key = f"previews/{beat.id}.mp3"
        catalog.publish(beat)
        db.session.commit()
        return beat.id


def test_a_beat_page_comes_with_the_beat_as_the_api_gives_it(client, listed_beat):
    html = client.get(f"/beats/{listed_beat}", headers=BROWSER).get_data(as_text=True)
    assert "</script><script>alert(1)" not in html, "the title cannot end the data block"
    answers = first_answers(html)
    assert answers == {f"/api/v1/beats/{listed_beat}": client.get(f"/api/v1/beats/{listed_beat}").json}
    assert answers[f"/api/v1/beats/{listed_beat}"]["title"] == "Night </script><script>alert(1)</script>"


def test_the_store_front_comes_with_its_first_page_of_beats_and_words(client, listed_beat):
    answers = first_answers(client.get("/", headers=BROWSER).get_data(as_text=True))
    assert answers["/api/v1/beats?limit=24"] == client.get("/api/v1/beats?limit=24").json
    assert answers["/api/v1/catalog/vocabulary"] == client.get("/api/v1/catalog/vocabulary").json


@pytest.mark.parametrize("path", ["/beats/bt_missing", "/?genre=trap", "/studio", "/library", "/signin"])
def test_pages_without_a_public_first_answer_carry_none(client, path):
    """An unknown beat's page shows its own "not found"; a search, and a signed-in visitor's pages,
    ask the API."""
    html = client.get(path, headers=BROWSER).get_data(as_text=True)
    assert 'id="first-answers"' not in html
