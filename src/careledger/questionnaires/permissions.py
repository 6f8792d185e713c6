"""Which access-policy action guards which questionnaire work — in one place.

The policy's role table (`careledger.access.roles`) has no questionnaire actions yet, so this
app maps its work onto the closest existing ones; when `questionnaire.*` actions are added there,
only this file changes:

* filling in or starting a client's questionnaire, and sending a client a link to one, is a
  change to their record: `record.update` (the care team's health manager and doctor; never under
  break-glass; a nurse only if the policy gives nurses `record.update`);
* reading a client's responses and scores is reading their record: `record.view` (the care team,
  nurses included; a break-glass grant too, ledgered as an emergency);
* configuring questionnaires (create, edit drafts, import, publish, retire, export, preview) is
  institution configuration without anyone's data: `catalogue.map`, which only the institution
  admin holds — separation of duties: the admin never gets `record.view`, so never sees a
  response.

Portal clients are not in the staff policy: the portal's own check (`portal.selectors.
check_portal_user`) ties the signed-in account to exactly one client, and every portal function
here acts on that client only.
"""

from careledger.access.roles import Action

FILL = Action.RECORD_UPDATE
VIEW = Action.RECORD_VIEW
CONFIGURE = Action.CATALOGUE_MAP

# Ledger action codes of this app (the refusals carry the policy action above).
DEFINE = "questionnaire.define"
DEFINITION_VIEW = "questionnaire.definition.view"
RESPONSE_START = "questionnaire.response.start"
RESPONSE_SAVE = "questionnaire.response.save"
RESPONSE_SUBMIT = "questionnaire.response.submit"
RESPONSE_VIEW = "questionnaire.response.view"
RESPONSE_LIST = "questionnaire.response.list"
RESPONSE_EXPORT = "questionnaire.response.export"
LINK_ISSUE = "questionnaire.link.issue"
LINK_OPEN = "questionnaire.link.open"
