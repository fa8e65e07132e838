"""The bundle against the Databricks CLI's own JSON Schema (../shared/schemas/databricks-bundle).

No workspace is reachable, so ``databricks bundle validate`` cannot run here. The CLI's published
schema (bundle/schema/jsonschema.json) validates instead:

- databricks.yml merged with its include files, as written (interpolations unresolved): what
  the CLI and an IDE check while a file is edited;
- once per target, the configuration the CLI deploys: the target's overrides applied and every
  reference resolved, for a sample developer (dev) and a sample deployer (prod), so a value of
  the wrong type reached through a variable is caught too.

Layers of checks, and what each catches (the other files of tests/deploy):
- this schema: unknown keys, wrong types and bad enum values in every resource, target and
  section (not unknown top-level keys: its root admits any; and its interpolation patterns are
  unanchored, so it cannot judge references);
- the ``databricks-bundles`` Job model (test_deploy_bundle.py): the same for jobs, through the
  Python models the Databricks SDK team generates, as a second opinion on the job files;
- the rule tests (test_deploy_bundle.py): what no schema can express: the Jobs API's
  cross-field rules (profiles_directory only without warehouse_id), isolation between targets
  and developers, the production-mode and permission checks the CLI makes, references that
  resolve, files and entry points that exist;
- the harness (test_databricks_harness.py): the dbt job's commands and profile, run.

The schema's patterns use \\p{L}, which Python's ``re`` rejects: patterns are matched with the
``regex`` package.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import regex
from bundle_config import ALICE, BOB, DEPLOYER, ROOT, load_bundle

SCHEMA_PATH = ROOT.parent / "shared" / "schemas" / "databricks-bundle" / "jsonschema.json"
pytestmark = pytest.mark.skipif(
    not SCHEMA_PATH.is_file(), reason="../shared/schemas/databricks-bundle is absent"
)
BUNDLE = load_bundle()


def _validator():
    import jsonschema
    from jsonschema import validators

    def pattern(validator, patrn, instance, schema):
        if validator.is_type(instance, "string") and not regex.search(patrn, instance):
            yield jsonschema.ValidationError(f"{instance!r} does not match {patrn!r}")

    def pattern_properties(validator, patterns, instance, schema):
        if not validator.is_type(instance, "object"):
            return
        for key_pattern, subschema in patterns.items():
            for key, value in instance.items():
                if regex.search(key_pattern, key):
                    yield from validator.descend(value, subschema, path=key, schema_path=key)

    schema = json.loads(Path(SCHEMA_PATH).read_text())
    base = validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls = validators.extend(base, {"pattern": pattern, "patternProperties": pattern_properties})
    return cls(schema)


@pytest.fixture(scope="module")
def validator():
    return _validator()


def _leaves(error):
    if not error.context:
        yield error
    for sub in error.context or ():
        yield from _leaves(sub)


def errors(validator, document) -> list[str]:
    """Each failure as `path: message`, at the deepest point the schema's oneOf branches reach
    (a key unknown to a task is reported at the task, not at `resources`)."""
    found = []
    for error in validator.iter_errors(document):
        leaves = list(_leaves(error))
        depth = max(len(leaf.absolute_path) for leaf in leaves)
        found += [
            f"{'/'.join(map(str, leaf.absolute_path))}: {leaf.message[:200]}"
            for leaf in leaves
            if len(leaf.absolute_path) == depth
        ]
    return found


def test_the_files_as_written_match_the_schema(validator) -> None:
    assert errors(validator, BUNDLE.merged()) == []


@pytest.mark.parametrize(
    ("target", "user"), [("dev", ALICE), ("dev", BOB), ("prod", DEPLOYER)], ids=str
)
def test_each_target_as_deployed_matches_the_schema(validator, target, user) -> None:
    deployed = BUNDLE.deployed(target, user)
    assert "targets" not in deployed and "${" not in json.dumps(deployed)
    assert errors(validator, deployed) == []


def _ingest(document: dict) -> dict:
    return document["resources"]["jobs"]["smartgrid_ingest"]


def test_negative_controls_the_schema_check_can_fail(validator) -> None:
    """An unknown key, a wrong type and a bad enum value are each refused."""
    deployed = BUNDLE.deployed("prod", DEPLOYER)

    unknown = copy.deepcopy(deployed)
    _ingest(unknown)["tasks"][0]["python_wheel_task"]["entrypoint"] = "typo"
    assert any("entrypoint" in e for e in errors(validator, unknown))

    wrong_type = copy.deepcopy(deployed)
    _ingest(wrong_type)["job_clusters"][0]["new_cluster"]["num_workers"] = "many"
    assert any("num_workers" in e for e in errors(validator, wrong_type))

    bad_enum = copy.deepcopy(deployed)
    _ingest(bad_enum)["job_clusters"][0]["new_cluster"]["data_security_mode"] = "SINGLE_USR"
    assert any("data_security_mode" in e for e in errors(validator, bad_enum))

    unknown_in_target = BUNDLE.merged()
    unknown_in_target["targets"]["prod"]["run_ass"] = {"user_name": "x"}
    assert any("run_ass" in e for e in errors(validator, unknown_in_target))


def test_what_the_schema_cannot_see(validator) -> None:
    """Why the rule tests exist: the Jobs API's profiles_directory-with-warehouse_id conflict,
    a reference to an undeclared variable and an unknown top-level key (the schema's root
    admits any) all pass the schema."""
    deployed = BUNDLE.deployed("dev", ALICE)
    dbt = deployed["resources"]["jobs"]["smartgrid_dbt"]["tasks"][0]["dbt_task"]
    dbt["warehouse_id"] = "0123456789abcdef"  # with profiles_directory: refused by the Jobs API
    assert errors(validator, deployed) == []
    written = BUNDLE.merged()
    written["resources"]["jobs"]["smartgrid_dbt"]["schedule"]["quartz_cron_expression"] = (
        "${var.no_such_variable}"
    )
    written["targetz"] = {}
    assert errors(validator, written) == []
