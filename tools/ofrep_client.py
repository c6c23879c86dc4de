"""Evaluates flags through the OpenFeature Python SDK and its OFREP provider.

Usage: ofrep_client.py BASE_URL CASES_JSON RESULTS_JSON [API_KEY]

Each case: {"flag", "type": boolean|string|integer|float|object, "default",
"targetingKey" (optional), "attributes" (optional)}. Prints one JSON list of
{"flag", "value", "reason", "variant", "error_code"}: what an application using the
SDK would get. Used by the end-to-end tests (loopback only).
"""
import json
import sys

from openfeature import api
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext


def main() -> None:
    base_url = sys.argv[1]
    cases_path, results_path = sys.argv[2], sys.argv[3]
    key = sys.argv[4] if len(sys.argv) > 4 else None
    headers = (lambda: {"X-API-Key": key}) if key else None
    api.set_provider(OFREPProvider(base_url, headers_factory=headers))
    client = api.get_client()
    resolvers = {
        "boolean": client.get_boolean_details,
        "string": client.get_string_details,
        "integer": client.get_integer_details,
        "float": client.get_float_details,
        "object": client.get_object_details,
    }
    results = []
    with open(cases_path, encoding="utf-8") as cases:
        cases = json.load(cases)
    for case in cases:
        context = EvaluationContext(case.get("targetingKey"), case.get("attributes", {}))
        details = resolvers[case["type"]](case["flag"], case["default"], context)
        results.append({
            "flag": case["flag"],
            "value": details.value,
            "reason": details.reason if isinstance(details.reason, str) else getattr(details.reason, "value", None),
            "variant": details.variant,
            "error_code": details.error_code.value if details.error_code else None,
        })
    with open(results_path, "w", encoding="utf-8") as out:
        json.dump(results, out)


if __name__ == "__main__":
    main()
