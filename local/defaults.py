"""Local defaults for every secret, so `make run` and `make demo` work with no setup.

Any of them can be overridden by exporting the variable before `make run`.
"""

LOCAL_SECRETS = {
    "HUBSPOT_CLIENT_SECRET": "local-hubspot-client-secret",
    "SALESFORCE_WEBHOOK_TOKEN": "local-salesforce-token",
    "SALESFORCE_ORG_ID": "00D000000000LOCALA",
    "TYPEFORM_SECRET": "local-typeform-secret",
    "TALLY_SECRET": "local-tally-secret",
    "WEBFLOW_SECRET": "local-webflow-secret",
    "FORMS_SECRET": "whsec_bG9jYWwtZm9ybXMtc2VjcmV0LWtleQ==",
    "CALENDLY_SIGNING_KEY": "local-calendly-signing-key",
    "CALCOM_SECRET": "local-calcom-secret",
    "PIPEDRIVE_WEBHOOK_USER": "leadscore",
    "PIPEDRIVE_WEBHOOK_PASSWORD": "local-pipedrive-password",
    "EVENTS_WRITE_KEY": "local-write-key",
    "ADMIN_API_KEY": "local-admin-key",
    "VIEWER_API_KEY": "local-viewer-key",
}
LOCAL_HOST = "127.0.0.1"
LOCAL_PORT = 8000
LOCAL_TABLE = "leadscore-local"
