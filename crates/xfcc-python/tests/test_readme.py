"""The README's Python quick start, run as it is printed: its two blocks
under "### Python", with the recipe's variable set as the text says."""

import re

from conftest import ROOT, capture



def blocks():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Python") : readme.index("### The `xfcc` command")]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_the_readme_has_the_two_python_blocks():
    assert len(blocks()) == 2


def test_the_plain_block_allows_the_pinned_client_and_refuses_another(recipe_env, capsys):
    plain = blocks()[0]
    exec(compile(plain, "README.md", "exec"), {"header": capture("rsa-chain")})
    assert capsys.readouterr().out.startswith("allowed: CN=client-app.contoso.example")
    exec(compile(plain, "README.md", "exec"), {"header": capture("wrong-cn")})
    assert capsys.readouterr().out == "refused: not_allowed not_allowed\n"


def test_the_fastapi_block_serves_the_pinned_client_and_refuses_the_rest(recipe_env):
    from fastapi.testclient import TestClient

    namespace = {}
    exec(compile(blocks()[1], "README.md", "exec"), namespace)
    client = TestClient(namespace["app"])
    r = client.get("/cert-info", headers={"X-Forwarded-Client-Cert": capture("rsa-chain")})
    assert r.status_code == 200 and r.json()["subject"].startswith("CN=client-app.contoso.example")
    r = client.get("/cert-info")
    assert (r.status_code, r.json()) == (403, {"error": "missing"})
