"""render.yaml and app.json against the platforms' documented schemas, and against the Procfile."""

import copy
import json
import shlex
from pathlib import Path

import jsonschema
import pytest
import yaml

from app import config as app_config
from app import create_app
from app.credentials.crypto import decrypt, encrypt

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def load_schema(name):
    schema = json.loads((HERE / name).read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


@pytest.fixture(scope="module")
def blueprint():
    return yaml.safe_load((ROOT / "render.yaml").read_text())


@pytest.fixture(scope="module")
def manifest():
    return json.loads((ROOT / "app.json").read_text())


def procfile():
    return {name.strip(): command.strip() for name, _, command in
            (line.partition(":") for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())}


def errors(validator, document):
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_render_yaml_follows_the_blueprint_spec(blueprint):
    assert errors(load_schema("render-blueprint.schema.json"), blueprint) == []


def test_the_blueprint_schema_refuses_what_render_refuses(blueprint):
    validator = load_schema("render-blueprint.schema.json")
    broken = copy.deepcopy(blueprint)
    kv = next(s for s in broken["services"] if s["type"] == "keyvalue")
    del kv["ipAllowList"]  # required for Key Value
    kv["maxmemoryPolicy"] = "evict-everything"
    web = next(s for s in broken["services"] if s["type"] == "web")
    web["maxShutdownDelaySeconds"] = 301
    worker = next(s for s in broken["services"] if s["type"] == "worker")
    worker["healthCheckPath"] = "/healthz"  # web services only
    found = "\n".join(errors(validator, broken))
    assert found.count("\n") >= 3, found


def test_the_blueprint_wires_web_worker_postgres_and_key_value(blueprint):
    services = {s["type"]: s for s in blueprint["services"]}
    assert services["web"]["healthCheckPath"] == "/livez"  # a broker blip must not stop the routing
    assert services["keyvalue"]["maxmemoryPolicy"] == "noeviction"
    assert services["web"]["preDeployCommand"] == procfile()["release"]
    for kind in ("web", "worker"):
        assert services[kind]["startCommand"] == procfile()[kind], kind
        keys = {v.get("key") or v.get("fromGroup") for v in services[kind]["envVars"]}
        assert {"DATABASE_URL", "REDIS_URL", "hookyard-settings"} <= keys
    (group,) = blueprint["envVarGroups"]
    generated = {v["key"] for v in group["envVars"] if v.get("generateValue")}
    assert {"SECRET_KEY", "SECRETS_ENCRYPTION_KEY", "METRICS_TOKEN"} <= generated


def test_app_json_follows_herokus_schema(manifest):
    assert errors(load_schema("heroku-app-json.schema.json"), manifest) == []


def test_the_app_json_schema_refuses_what_heroku_refuses(manifest):
    validator = load_schema("heroku-app-json.schema.json")
    broken = copy.deepcopy(manifest)
    broken["env"]["lower_case"] = {"value": "x"}
    broken["env"]["SECRET_KEY"]["generator"] = "uuid"
    broken["formation"]["web"]["size"] = "huge"
    broken["scripts"] = {"release": "flask db upgrade"}  # the release phase belongs in the Procfile
    assert len(errors(validator, broken)) >= 4


def test_heroku_gets_addons_generated_secrets_and_a_release_phase(manifest):
    plans = {addon["plan"].split(":")[0] for addon in manifest["addons"]}
    assert plans == {"heroku-postgresql", "heroku-redis"}
    assert {k for k, v in manifest["env"].items() if v.get("generator") == "secret"} >= {
        "SECRET_KEY", "SECRETS_ENCRYPTION_KEY", "METRICS_TOKEN"}
    assert set(manifest["formation"]) == {"web", "worker"}
    assert shlex.split(procfile()["release"]) == ["flask", "--app", "app", "release"]  # migrates, then says how
    # to create the first admin (tests/deploy/test_walkthrough.py runs it)


def test_a_generated_heroku_secret_is_a_usable_encryption_key():
    hex_key = "9f" * 32  # what "generator": "secret" makes: 64 hex digits
    app = create_app(app_config.TestConfig())
    app.config["SECRETS_ENCRYPTION_KEY"] = hex_key
    with app.app_context():
        assert decrypt(encrypt("whsec_abc")) == "whsec_abc"


def test_heroku_asks_for_the_public_url_and_the_smtp_settings_as_optional(manifest):
    asked = manifest["env"]
    for name in ("PUBLIC_URL", "SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_STARTTLS",
                 "SMTP_FROM", "ALERT_EMAIL_TO"):
        assert asked[name]["required"] is False and asked[name]["description"], name


def test_the_deploy_files_say_who_restarts_a_worker_whose_process_died(manifest):
    # tests/e2e/test_recovery.py checks the behaviour: dramatiq exits non-zero when one of its processes dies
    readme = (ROOT / "README.md").read_text()
    assert "**Who restarts a worker.**" in readme and "Restart=always" in readme
    render_comments = " ".join(line.strip().lstrip("# ") for line in (ROOT / "render.yaml").read_text().splitlines()
                               if line.strip().startswith("#"))
    assert "dies" in render_comments and "restarts the whole service" in render_comments
    assert "Heroku restarts the dyno" in manifest["env"]["WORKER_PROCESSES"]["description"]
