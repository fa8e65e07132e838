"""detect-secrets plugins for the credentials this project handles that its built-ins miss.

`make test` runs ``detect-secrets-hook`` with ``.secrets.baseline``, which loads these next to
the built-in plugins (the Azure storage account key is the built-in AzureStorageKeyDetector).
Each pattern captures the secret value only, and needs a real-looking value: placeholders such
as ``<key>``, ``dapi...`` or a ``{{secrets/<scope>/<key>}}`` reference do not match.
"""

from __future__ import annotations

import re

from detect_secrets.plugins.base import RegexBasedDetector

_B64 = r"[A-Za-z0-9+/]"
_SECRET_CHARS = r"[A-Za-z0-9_.~-]"


class EventHubsSharedAccessKeyDetector(RegexBasedDetector):
    """Event Hubs / Service Bus connection strings: ``SharedAccessKey=<base64>``."""

    secret_type = "Event Hubs / Service Bus shared access key"  # pragma: allowlist secret
    denylist = (re.compile(rf"SharedAccessKey=({_B64}{{30,}}={{0,2}})"),)


class DatabricksTokenDetector(RegexBasedDetector):
    """Databricks personal access tokens: ``dapi`` and 32 hex digits (an optional ``-2``)."""

    secret_type = "Databricks personal access token"  # pragma: allowlist secret
    denylist = (re.compile(r"\b(dapi[0-9a-f]{32})(?:-\d)?\b"),)


class AzureSasSignatureDetector(RegexBasedDetector):
    """The signature of a shared access signature URL or token: ``sig=<url-encoded base64>``."""

    secret_type = "Azure shared access signature"  # pragma: allowlist secret
    denylist = (re.compile(r"[?&]sig=([A-Za-z0-9%+/]{30,})"),)


class AzureClientSecretDetector(RegexBasedDetector):
    """An Entra ID (service principal) client secret: 3 chars, a digit, ``Q~``, 31-34 chars."""

    secret_type = "Azure AD client secret"  # pragma: allowlist secret
    denylist = (
        re.compile(
            rf"(?<!{_SECRET_CHARS})({_SECRET_CHARS}{{3}}[0-9]Q~{_SECRET_CHARS}{{31,34}})"
            rf"(?!{_SECRET_CHARS})"
        ),
    )


class SparkStorageCredentialDetector(RegexBasedDetector):
    """A storage key or client secret written as a literal Spark setting instead of a
    ``{{secrets/<scope>/<key>}}`` reference (cluster spark_conf, databricks.yml, notebooks)."""

    secret_type = "Storage credential in a Spark setting"  # pragma: allowlist secret
    denylist = (
        re.compile(
            r"fs\.azure\.account\.(?:key|oauth2\.client\.secret)[\w.-]*[\"']?\s*[:=]\s*[\"']?"
            r"(?!\{\{secrets/)([A-Za-z0-9+/_.~-]{30,}={0,2})"
        ),
    )
