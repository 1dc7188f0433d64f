"""The layer contract: dependencies between apps run one way, and cross-domain reactions go
through the hook catalogue in servicedesk/hooks.py.

Order: servicedesk < accounts < feeds < tickets < intake < communities < policies < gamification
(gamification holds the manager's dashboard, which reads the outbound and DLP figures of policies).
Every import counts, including those inside functions; tests, migrations and bench/ are exempt,
and so is the project wiring that composes all apps (URL conf, ASGI routing, the demo seeder).
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from servicedesk import hooks

ROOT = Path(__file__).resolve().parents[2]
LAYERS = [{"servicedesk"}, {"accounts"}, {"feeds"}, {"tickets"}, {"intake"}, {"communities"}, {"policies"}, {"gamification"}]
RANK = {app: rank for rank, layer in enumerate(LAYERS) for app in layer}
COMPOSITION = {
    "servicedesk/urls.py",  # mounts every app's URLs
    "servicedesk/asgi.py",  # routes websockets to feeds' consumers
    "accounts/management/commands/seed_demo.py",  # demo data across every app, like bench/
}


def _imported_apps(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def layer_violations(root: Path = ROOT) -> list[str]:
    found = []
    for app in RANK:
        for path in sorted((root / app).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if "migrations" in path.parts or relative in COMPOSITION:
                continue
            for lineno, module in _imported_apps(ast.parse(path.read_text(), filename=relative)):
                other = module.split(".")[0]
                if other in RANK and other != app and RANK[other] >= RANK[app]:
                    found.append(f"{relative}:{lineno} ({app}) imports {module} ({other})")
    return found


def test_no_app_imports_an_app_above_it_or_beside_it():
    assert layer_violations() == []


def test_the_check_sees_imports_inside_functions(tmp_path):
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "services.py").write_text(
        "from accounts.models import User\n\ndef f():\n    from gamification import services\n"
    )
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "services.py").write_text("import gamification.selectors\nfrom tickets import models\n")
    (tmp_path / "feeds" / "migrations").mkdir()
    (tmp_path / "feeds" / "migrations" / "0001_initial.py").write_text("import tickets\n")

    assert layer_violations(tmp_path) == [
        "feeds/services.py:4 (feeds) imports gamification (gamification)",
        "policies/services.py:1 (policies) imports gamification.selectors (gamification)",
    ]


def test_every_hook_has_a_subscriber_that_takes_its_arguments():
    declared = hooks.catalogue()
    assert declared, "the catalogue is empty"
    for name, hook in declared.items():
        assert hook.__doc__ and hook.__doc__.strip(), f"hook {name} says nothing about when it fires"
        assert hook.handlers, f"hook {name} has no subscriber"
        arguments = {parameter: None for parameter in hook.signature.parameters}
        for handler in hook.handlers:
            inspect.signature(handler).bind(**arguments)  # raises TypeError on a mismatch


def test_a_subscription_to_an_unknown_hook_is_refused():
    with pytest.raises(LookupError):
        hooks.subscribe("ticket_vanished", lambda **kwargs: None)
    with pytest.raises(LookupError):
        hooks.subscribe(hooks.Hook(lambda *, ticket: None), lambda **kwargs: None)


def test_a_hook_checks_its_arguments_before_any_handler_runs():
    with pytest.raises(TypeError):
        hooks.ticket_opened(ticket=None)
    with pytest.raises(TypeError):
        hooks.like_added(post=None, actor=None, extra=1)
