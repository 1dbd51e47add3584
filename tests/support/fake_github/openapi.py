"""GitHub's OpenAPI description (npm `@octokit/openapi`): find a request's operation, validate it.

Schemas are checked with openapi-schema-validator (OpenAPI 3.0 semantics: `nullable`, `oneOf`,
formats, readOnly/writeOnly); `$ref`s resolve against the whole document, which is loaded once per
process (under a second).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema.exceptions import ValidationError, best_match
from jsonschema.validators import extend
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.support.github_assets import OPENAPI_JSON

_DOCUMENT_URI = "urn:github-openapi"
# The version the base description documents; changesets add the newer ones.
BASE_API_VERSION = "2022-11-28"
_PARAM = re.compile(r"\{([^}]+)\}")

NO_BODY = object()  # a request without a body, as opposed to a JSON `null`
# Response fields where GitHub's description contradicts GitHub's answers: the fake answers as
# GitHub does and does not flag them. Operation id -> pattern of the field's path.
KNOWN_INACCURACIES = {
    # `account` is allOf(simple-user, enterprise), both at once; GitHub sends one of them.
    "apps/list-installations": re.compile(r"\d+/account"),
}


def _github_dialect(base: Any) -> Any:
    """`base` with two readings GitHub's description relies on: `nullable` admits null even
    where an `enum` omits it (a check run's `conclusion`), and a `discriminator` applies to
    objects only (the contents API maps arrays, i.e. folders, with it)."""
    check_enum, check_one_of = base.VALIDATORS["enum"], base.VALIDATORS["oneOf"]

    def enum(validator: Any, enums: Any, instance: Any, schema: Mapping[str, Any]) -> Any:
        if instance is None and schema.get("nullable"):
            return
        yield from check_enum(validator, enums, instance, schema)

    def one_of(validator: Any, branches: Any, instance: Any, schema: Mapping[str, Any]) -> Any:
        if not isinstance(instance, dict):
            schema = {key: value for key, value in schema.items() if key != "discriminator"}
        yield from check_one_of(validator, branches, instance, schema)

    return extend(base, {"enum": enum, "oneOf": one_of})  # type: ignore[no-untyped-call]


_READ = _github_dialect(OAS30ReadValidator)
_WRITE = _github_dialect(OAS30WriteValidator)


def _pointer(*parts: str) -> str:
    escaped = (part.replace("~", "~0").replace("/", "~1") for part in parts)
    return f"{_DOCUMENT_URI}#/" + "/".join(escaped)


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # "path" or "query"
    required: bool
    schema: dict[str, Any]
    schema_ref: str
    multi_segment: bool  # a path parameter that may contain "/" (`contents/{path}`)


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    operation_id: str
    docs_url: str
    parameters: tuple[Parameter, ...]
    body_ref: str | None
    body_required: bool
    response_refs: Mapping[str, str | None]  # status code -> JSON schema pointer (None: no body)


@dataclass(frozen=True)
class _Route:
    template: str
    operations: Mapping[str, Operation]
    pattern: re.Pattern[str]
    specificity: tuple[int, int]  # more literal text, then fewer parameters, wins


@dataclass(frozen=True)
class Problem:
    """One way a request, response or payload departs from the description."""

    field: str  # where: "conclusion", "output/annotations", "query parameter per_page"...
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class RequestInvalid(Exception):
    """The request does not match GitHub's description; `status` is GitHub's answer to it."""

    def __init__(
        self, status: int, message: str, errors: list[Problem], operation: Operation | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.operation = operation


def _group(name: str) -> str:
    return name.replace("-", "_")


def _route_pattern(template: str, multi_segment: set[str]) -> re.Pattern[str]:
    parts = _PARAM.split(template)  # literal, name, literal, name, ...
    regex = "".join(
        re.escape(part)
        if index % 2 == 0
        else f"(?P<{_group(part)}>{'.+' if part in multi_segment else '[^/]+'})"
        for index, part in enumerate(parts)
    )
    return re.compile(regex + "$")


def _types(schema: Mapping[str, Any]) -> set[str]:
    if "type" in schema:
        return {schema["type"]}
    branches = schema.get("oneOf", []) + schema.get("anyOf", [])
    return {kind for branch in branches for kind in _types(branch)}


def _coerce(raw: str, schema: Mapping[str, Any]) -> Any:
    """Turn a path or query string into the type its schema declares, as GitHub would read it."""
    types = _types(schema)
    if "array" in types:
        return [_coerce(item, schema.get("items", {})) for item in raw.split(",")]
    if "integer" in types and re.fullmatch(r"-?\d+", raw):
        return int(raw)
    if "number" in types and re.fullmatch(r"-?\d+(\.\d+)?", raw):
        return float(raw)
    if "boolean" in types and raw in ("true", "false"):
        return raw == "true"
    return raw


def _problem(error: ValidationError, prefix: str = "") -> Problem:
    where = "/".join(str(part) for part in error.absolute_path)
    return Problem(" ".join(filter(None, (prefix, where))) or "body", error.message)


class Description:
    """An index of GitHub's REST operations with validators for requests, responses, webhooks."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._registry: Registry[Any] = Registry().with_resource(
            _DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT4)
        )
        self._validators: dict[tuple[str, bool], Any] = {}
        self._routes = [self._route(template, item) for template, item in document["paths"].items()]
        self.api_versions = frozenset({BASE_API_VERSION}) | {
            change["version"]
            for route in document["paths"].values()
            for operation in route.values()
            for change in operation.get("x-github-breaking-changes", [])
        }

    # -- index ---------------------------------------------------------------------------------

    def _resolve(self, node: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Follow a local `$ref`; return the target and its JSON pointer parts."""
        parts: list[str] = []
        while "$ref" in node:
            parts = node["$ref"].removeprefix("#/").split("/")
            node = self.document
            for part in parts:
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node, parts

    def _route(self, template: str, item: Mapping[str, Any]) -> _Route:
        operations = {
            method.upper(): self._operation(method, template, operation)
            for method, operation in item.items()
            if method in ("get", "post", "put", "patch", "delete")
        }
        multi_segment = {
            parameter.name
            for operation in operations.values()
            for parameter in operation.parameters
            if parameter.multi_segment
        }
        literal = len(_PARAM.sub("", template))
        return _Route(
            template,
            operations,
            _route_pattern(template, multi_segment),
            (literal, -template.count("{")),
        )

    def _operation(self, method: str, template: str, operation: Mapping[str, Any]) -> Operation:
        parameters = []
        for index, raw in enumerate(operation.get("parameters", [])):
            parameter, parts = self._resolve(raw)
            if parameter["in"] not in ("path", "query"):
                continue
            base = parts or ["paths", template, method, "parameters", str(index)]
            parameters.append(
                Parameter(
                    parameter["name"],
                    parameter["in"],
                    parameter.get("required", False),
                    parameter.get("schema", {}),
                    _pointer(*base, "schema"),
                    parameter.get("x-multi-segment", False),
                )
            )
        body_ref, body_required = None, False
        if "requestBody" in operation:
            body, parts = self._resolve(operation["requestBody"])
            base = parts or ["paths", template, method, "requestBody"]
            if "application/json" in body.get("content", {}):
                body_ref = _pointer(*base, "content", "application/json", "schema")
                body_required = body.get("required", False)
        responses: dict[str, str | None] = {}
        for status, raw in operation.get("responses", {}).items():
            response, parts = self._resolve(raw)
            base = parts or ["paths", template, method, "responses", status]
            json_body = "application/json" in response.get("content", {})
            responses[status] = (
                _pointer(*base, "content", "application/json", "schema") if json_body else None
            )
        return Operation(
            method.upper(),
            template,
            operation["operationId"],
            operation.get("externalDocs", {}).get("url", "https://docs.github.com/rest"),
            tuple(parameters),
            body_ref,
            body_required,
            responses,
        )

    def _matches(self, path: str) -> list[tuple[_Route, dict[str, str]]]:
        found = [
            (route, match.groupdict())
            for route in self._routes
            if (match := route.pattern.match(path))
        ]
        return sorted(found, key=lambda item: item[0].specificity, reverse=True)

    def find(self, method: str, path: str) -> tuple[Operation, dict[str, str]]:
        """The operation for `method` and a decoded request path, with its raw path parameters."""
        matches = self._matches(path)
        for route, values in matches:
            if method in route.operations:
                operation = route.operations[method]
                names = {_group(name): name for name in _PARAM.findall(route.template)}
                return operation, {names[key]: value for key, value in values.items()}
        known = ", ".join(sorted({m for route, _ in matches for m in route.operations}))
        detail = f"only {known} are documented for it" if matches else "no such path"
        raise RequestInvalid(404, "Not Found", [Problem(f"{method} {path}", detail)])

    # -- validation ----------------------------------------------------------------------------

    def _validator(self, ref: str, *, response: bool) -> Any:
        key = (ref, response)
        if key not in self._validators:
            cls = _READ if response else _WRITE
            self._validators[key] = cls(
                {"$ref": ref}, registry=self._registry, format_checker=cls.FORMAT_CHECKER
            )
        return self._validators[key]

    def _problems(self, ref: str, value: Any, *, response: bool, prefix: str = "") -> list[Problem]:
        errors = list(self._validator(ref, response=response).iter_errors(value))
        if not errors:
            return []
        # The most relevant error first (it digs into oneOf branches), then the rest.
        first = best_match(errors)
        ordered = [first, *(error for error in errors if error is not first)]
        return [_problem(error, prefix) for error in ordered]

    def validate_request(
        self, method: str, path: str, query: Mapping[str, str], body: Any
    ) -> tuple[Operation, dict[str, Any]]:
        """Validate one request; return its operation and typed path and query parameters."""
        operation, raw_path = self.find(method, path)
        values: dict[str, Any] = {}
        errors: list[Problem] = []
        path_errors = False
        for parameter in operation.parameters:
            source = raw_path if parameter.location == "path" else query
            where = f"{parameter.location} parameter {parameter.name}"
            if parameter.name not in source:
                if parameter.required:
                    errors.append(Problem(where, "missing"))
                continue
            value = _coerce(source[parameter.name], parameter.schema)
            problems = self._problems(parameter.schema_ref, value, response=False, prefix=where)
            errors += problems
            path_errors |= bool(problems) and parameter.location == "path"
            values[parameter.name] = value
        if operation.body_ref is not None:
            if body is NO_BODY:
                if operation.body_required:
                    errors.append(Problem("body", "missing"))
            else:
                errors += self._problems(operation.body_ref, body, response=False)
        if errors:
            # GitHub's router answers 404 when a path parameter has the wrong form.
            status, message = (404, "Not Found") if path_errors else (422, "Validation Failed")
            raise RequestInvalid(status, message, errors, operation)
        return operation, values

    def validate_response(self, operation: Operation, status: int, body: Any) -> list[Problem]:
        """Problems with a response the fake produced; undocumented statuses are not checked."""
        ref = operation.response_refs.get(str(status))
        if ref is None or body is NO_BODY:
            return []
        inaccurate = KNOWN_INACCURACIES.get(operation.operation_id)
        return [
            problem
            for problem in self._problems(ref, body, response=True)
            if not (inaccurate and inaccurate.fullmatch(problem.field))
        ]

    def validate_webhook(self, event: str, action: str | None, payload: Any) -> list[Problem]:
        """Problems with a webhook payload, checked against the description's `x-webhooks`."""
        name = "-".join(part.replace("_", "-") for part in (event, action) if part)
        if name not in self.document["x-webhooks"]:
            return [Problem(name, "no such webhook in GitHub's description")]
        ref = _pointer("x-webhooks", name, "post", "requestBody", "content", "application/json")
        return self._problems(ref + "/schema", payload, response=True)


@functools.cache
def load_description(path: Path = OPENAPI_JSON) -> Description:
    """Parse GitHub's description once per process."""
    return Description(json.loads(path.read_bytes()))
