from fastapi.testclient import TestClient


def test_home_page_is_published(client: TestClient) -> None:
    r = client.get("/v1/pages/home")
    assert r.status_code == 200
    assert r.json()["data"]["slug"] == "home"
