"""Which policy actions guard the tagging app (one place to change them).

Every check goes through `careledger.access.enforce.require` (deny by default, refusals
ledgered):

* reading a client's tags and their history — `tag.view`: the client's care team (health
  manager, doctor, nurse; nurses see tags, which are not identifiers) and a break-glass reader;
  never the admin, auditor or analyst.
* applying or removing a manual tag — `tag.apply`: the care team's health manager and doctor
  (not nurses, not under break-glass).
* writing, previewing, publishing and retiring rules — `tag.rule.manage`: the institution
  admin's configuration (a preview shows counts only, never a client's data).
* filtering a list by tag — `client.list`: the list is already scoped to the asker's teams.
"""

from careledger.access.roles import Action

VIEW = Action.TAG_VIEW
APPLY = Action.TAG_APPLY
CONFIGURE = Action.TAG_RULE_MANAGE
LIST = Action.CLIENT_LIST

# Ledger action names of this app's events (the policy action above authorises each).
EV_VIEW = "tag.view"
EV_HISTORY = "tag.history"
EV_APPLY = "tag.apply"
EV_REMOVE = "tag.remove"
EV_EVALUATE = "tag.evaluate"
EV_LIST = "tag.filter"
EV_RULE = "tag.rule"
EV_PREVIEW = "tag.rule.preview"
