"""The rules file's `crm_activity` section: which CRM records and properties are engagement.

HubSpot keeps a contact's latest activity in properties (`hs_email_last_open_date`,
`recent_conversion_date` ...): each listed property whose value is a date records one event at
that date. Salesforce records it on its own objects (CampaignMember, Task, Event). The inbound
adapters apply this mapping; the engine then scores the events like any other.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

FORM = "form"  # a form conversion: the form's name decides what it means, as for every form source


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HubSpotActivity(_Strict):
    """A contact property that records an activity. Its value is the activity's time, unless `when`
    is given: then the property is a flag (`hs_email_optout` = true) and the change is the event."""

    property: str = Field(min_length=1)
    event: str = Field(min_length=1, description=f"canonical event type, or {FORM!r}")
    form_name: str | None = Field(default=None, description="property naming the form (for event: form)")
    message: str | None = Field(default=None, description="property whose value keys the message (then +N)")
    url: str | None = Field(default=None, description="property holding the page URL (for page views)")
    when: str | None = Field(default=None, description="flag value that means the event (true, ...)")
    marketing_email: bool = Field(
        default=False, description="left to the email events poller when it runs (HUBSPOT_EMAIL_EVENTS=true)"
    )


class CampaignMemberActivity(_Strict):
    """A Salesforce CampaignMember matches when its campaign type, status and responded flag do
    (an empty list matches any); the first matching entry decides the event."""

    campaign_type: list[str] = Field(default_factory=list)
    status: list[str] = Field(default_factory=list)
    responded: bool | None = None
    event: str = Field(min_length=1)


class SalesforceActivity(_Strict):
    campaign_members: list[CampaignMemberActivity] = Field(default_factory=list)
    tasks: dict[str, str] = Field(
        default_factory=dict, description="completed Task on a Lead or Contact: TaskSubtype (or Type) -> event"
    )
    events: dict[str, str] = Field(
        default_factory=dict, description="Event on a Lead or Contact: Type (or EventSubtype) -> event"
    )


class PipedriveActivity(_Strict):
    activities: dict[str, str] = Field(
        default_factory=dict, description="done activity on a person: its type key (call, meeting ...) -> event"
    )
    records: dict[str, str] = Field(
        default_factory=dict, description="a lead or deal created for a person: lead / deal -> event"
    )


class CrmActivity(_Strict):
    hubspot: list[HubSpotActivity] = Field(default_factory=list)
    hubspot_refresh: list[str] = Field(
        default_factory=list,
        description="counter properties whose growth means an activity whose details are elsewhere: read the contact",
    )
    salesforce: SalesforceActivity = Field(default_factory=SalesforceActivity)
    pipedrive: PipedriveActivity = Field(default_factory=PipedriveActivity)

    def for_hubspot(self, email_events: bool) -> CrmActivity:
        """The mapping in force: with the email events poller on, it alone counts marketing email
        (every open, click and send per campaign), so the properties that keep only the latest
        one are left out and nothing is counted twice."""
        if not email_events:
            return self
        kept = [item for item in self.hubspot if not item.marketing_email]
        return self.model_copy(update={"hubspot": kept})

    def hubspot_properties(self) -> list[str]:
        """Every property the mapping reads, for the CRM API's `properties` list."""
        names: set[str] = set(self.hubspot_refresh)
        for item in self.hubspot:
            names.update(name for name in (item.property, item.form_name, item.message, item.url) if name)
        return sorted(names)

    def event_references(self) -> list[tuple[tuple[str | int, ...], str]]:
        """(path, event type) of every event this section names, for the rules' cross-check."""
        found: list[tuple[tuple[str | int, ...], str]] = []
        for index, item in enumerate(self.hubspot):
            if item.event != FORM:
                found.append((("crm_activity", "hubspot", index, "event"), item.event))
        sf = self.salesforce
        for index, member in enumerate(sf.campaign_members):
            found.append((("crm_activity", "salesforce", "campaign_members", index, "event"), member.event))
        for kind, table in (("tasks", sf.tasks), ("events", sf.events)):
            found += [(("crm_activity", "salesforce", kind, name), event) for name, event in table.items()]
        pd = self.pipedrive
        for kind, table in (("activities", pd.activities), ("records", pd.records)):
            found += [(("crm_activity", "pipedrive", kind, name), event) for name, event in table.items()]
        return found
