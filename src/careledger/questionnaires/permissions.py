"""Which access-policy action guards which questionnaire work — in one place.

* filling in or starting a client's questionnaire, and sending a client a link to one —
  `questionnaire.response.write`: the care team's health manager and doctor, and the follow-up
  nurse (who fills the follow-up script's questionnaire during a call); never under break-glass.
* reading a client's responses and scores — `questionnaire.response.view`: the care team,
  nurses included; a break-glass grant too, ledgered as an emergency.
* configuring questionnaires (create, edit drafts, import, publish, retire, export, preview) —
  `questionnaire.manage`: institution configuration without anyone's data, held by the
  institution admin only. Separation of duties: the admin never gets the response actions, so
  never sees an answer.

Portal clients are not in the staff policy: the portal's own check (`portal.selectors.
check_portal_user`) ties the signed-in account to exactly one client, and every portal function
here acts on that client only.
"""

from careledger.access.roles import Action

FILL = Action.QUESTIONNAIRE_RESPOND
VIEW = Action.QUESTIONNAIRE_VIEW
CONFIGURE = Action.QUESTIONNAIRE_MANAGE

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
