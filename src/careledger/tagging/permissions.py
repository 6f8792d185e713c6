"""Which policy actions guard the tagging app (one place to change them).

The access policy (`careledger.access.roles`) has no tag actions yet, and this app may not edit
it, so tags are guarded by the existing actions whose holders are exactly the ones the design
names; every check still goes through `careledger.access.enforce.require` (deny by default,
refusals ledgered):

* reading a client's tags and their history — `client.view`: the client's care team (health
  manager, doctor, nurse; nurses see tags, which are not identifiers) and a break-glass reader;
  never the admin, auditor or analyst.
* applying or removing a manual tag — `record.update`: the care team's health manager and
  doctor (not nurses, not under break-glass).
* writing, previewing, publishing and retiring rules — `catalogue.map`: the institution
  admin's configuration of clinical vocabulary (counts only, never a client's data).

When the policy gains `tag.view` / `tag.apply` / `tag.rule.manage`, change these three lines.
"""

from careledger.access.roles import Action

VIEW = Action.CLIENT_VIEW
APPLY = Action.RECORD_UPDATE
CONFIGURE = Action.CATALOGUE_MAP
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
