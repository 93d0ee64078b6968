from app import config, create_app


def test_healthz_answers_ok_with_the_version(client, app):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == body["database"] == body["broker"] == "ok"
    assert body["version"] and body["version"] != "unknown"  # the checkout's git commit
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_names_the_version_the_platform_gives(app, client):
    app.config["SOURCE_VERSION"] = "0123456789abcdef0123456789abcdef01234567"
    assert client.get("/healthz").get_json()["version"] == "0123456789ab"


def test_an_unreachable_database_is_a_503_naming_it_and_nothing_secret():
    # A real connection attempt to a port nothing listens on, with a password in the URL
    app = create_app(config.TestConfig(database_url="postgresql://hookyard:s3cret-pw@127.0.0.1:9/hookyard"))
    app.config["HEALTH_TIMEOUT_SECONDS"] = 5
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "failing" and body["database"].startswith("error:") and body["broker"] == "ok"
    assert response.headers["Retry-After"] == "10"
    text = response.get_data(as_text=True)
    assert "s3cret" not in text and "127.0.0.1" not in text and "hookyard:" not in text


def test_healthz_needs_no_sign_in_or_key(client):
    assert client.get("/healthz", headers={"Authorization": "Bearer wrong"}).status_code == 200


def test_livez_checks_the_database_only(client):
    response = client.get("/livez")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == body["database"] == "ok" and "broker" not in body


def test_livez_is_503_when_the_database_does_not_answer():
    app = create_app(config.TestConfig(database_url="postgresql://hookyard:s3cret-pw@127.0.0.1:9/hookyard"))
    app.config["HEALTH_TIMEOUT_SECONDS"] = 5
    response = app.test_client().get("/livez")
    assert response.status_code == 503 and response.get_json()["database"].startswith("error:")


def test_readyz_names_a_missing_worker(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"] == body["broker"] == "ok" and body["workers"] == "no worker alive"


def test_readyz_is_ok_with_a_worker_alive(app, client):
    from tests.ops.test_pages import heartbeat

    heartbeat(app, 11, "v1")
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["workers"] == response.get_json()["broker_eviction"] == "ok"
