"""TEMPORARY placeholder until the signing branch is merged."""


def sign_report_pdf(content, *, box, agency_name, signed_at):
    return None
