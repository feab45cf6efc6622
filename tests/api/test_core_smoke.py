def test_health(client):
    assert client.get("/api/v1/health").json() == {"status": "ok"}


def test_me(client, headers_for):
    h = headers_for("technician")
    r = client.get("/api/v1/auth/me", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["technician_id"] == h.technician_id
