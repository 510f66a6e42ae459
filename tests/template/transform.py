#!/usr/bin/env python3
"""Print what AWS SAM's transform makes of SAM templates: what CloudFormation receives.

Usage: transform.py TEMPLATE...

Prints one JSON object mapping each TEMPLATE argument to {"template": <transformed template>} or,
when the translator refuses that template, {"error": "<why>"}. Exits 2 when the translator cannot
run at all (aws-sam-translator is not installed: cfn-lint brings it, `pip install cfn-lint`).

It runs offline, as `sam validate` and cfn-lint do: a function's local CodeUri becomes an s3://
URI first (as `sam package` does; the translator refuses local paths), the region is fixed
(the translator needs one to build ARNs), and the managed-policy loader knows no policy, so
nothing is looked up in IAM. One process serves every template given: importing the translator
takes about a second, transforming a template a fraction of one.
"""

import json
import logging
import os
import sys

try:
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse
except ImportError as err:
    sys.exit(
        f"transform.py: cannot import the SAM translator ({err}); install cfn-lint, "
        "which brings aws-sam-translator: pip install cfn-lint"
    )

# The translator reads the region from the environment (through boto3) to build ARNs.
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
# Its metrics warn on stderr that nobody publishes them; the results say all there is to say.
logging.getLogger("samtranslator").setLevel(logging.CRITICAL)


class NoManagedPolicies:
    """A managed-policy loader that knows no policy, so the transform makes no IAM call."""

    def load(self):
        return {}


def packaged(template):
    """Returns template with every local CodeUri as an S3 URI, as `sam package` leaves it."""
    sections = [template.get("Globals", {}).get("Function", {})]
    sections += [
        r.get("Properties", {})
        for r in template.get("Resources", {}).values()
        if r.get("Type") == "AWS::Serverless::Function"
    ]
    for properties in sections:
        uri = properties.get("CodeUri")
        if isinstance(uri, str) and not uri.startswith("s3://"):
            properties["CodeUri"] = "s3://packaged/" + uri
    return template


def transformed(path):
    """Returns what the transform makes of the template at path, or why it refused it."""
    try:
        with open(path, encoding="utf-8") as f:
            template = packaged(yaml_parse(f.read()))
        return {"template": transform(template, {}, NoManagedPolicies())}
    except InvalidDocumentException as err:
        return {"error": "; ".join(cause.message for cause in err.causes)}
    except Exception as err:  # anything else the translator or the YAML parser raises
        return {"error": f"{type(err).__name__}: {err}"}


def main(paths):
    results = {path: transformed(path) for path in paths}
    # default=str: YAML dates (an unquoted policy Version) have no JSON form.
    json.dump(results, sys.stdout, default=str)


if __name__ == "__main__":
    main(sys.argv[1:])
