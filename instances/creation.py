"""Creating a VM from the wizard's answers: what the host offers, the plan (dry run), the create job's work.

Pages and API call these, and creation_tasks.create_instance to start the job, which calls `run_create`. A plan reads the host
once (capabilities, names, pools, volumes) and builds the XML with instances/builder.py; nothing is made
until `run_create`, which removes whatever it made when a later step fails.
"""
from dataclasses import dataclass

from django.utils.translation import gettext as _

from core.models import Job
from hosts.connection import call
from virt.domain import Domain, define
from virt.errors import InvalidConfig, VirtError
from virt.guest_caps import guest_caps
from virt.host_choices import bridge_names, domain_name_taken, host_interfaces, network_names
from virt.names import NAME_PROBLEMS, name_problem
from virt.osinfo import GENERIC, database
from virt.storage import collect_pool, collect_pools
from virt.volumes import collect_volume, collect_volumes, create_volume, delete_volume
from virt.xml.domain import DomainXML

from . import builder
from .inventory import refresh_one
from .models import InstanceTemplate


@dataclass
class HostOffer:
    """What the wizard's form offers on one host, read live."""

    caps: object  # virt.guest_caps.GuestCaps
    pools: list  # virt.storage.PoolRecord, running ones
    volumes: dict  # pool name -> [VolumeRecord]
    networks: dict  # name -> active
    bridges: list


def host_offer(host):
    """The host's capabilities, running pools with their volumes, networks and bridges (one bounded call)."""

    def read(conn):
        pools = [pool for pool in collect_pools(conn) if pool.active]
        return HostOffer(guest_caps(conn), pools, {pool.name: collect_volumes(conn, pool.name) for pool in pools},
                         network_names(conn), bridge_names(conn))

    return call(host, read)


def guest_os(short_id):
    """The osinfo OS for a short id ("generic" when none is chosen); None if unknown."""
    return GENERIC if short_id in ("", GENERIC.short_id) else database().get(short_id)


@dataclass
class Plan:
    """A checked creation: the XML to define and the volume to make first (None: no new volume)."""

    host: object
    answers: builder.Answers
    xml: str
    volume: dict | None

    @property
    def job_kwargs(self):
        return {"host_id": self.host.pk, "xml": self.xml, "volume": self.volume, "start": self.answers.start}


def template_answers(template):
    """A template's stored answers (by id or name); AnswerErrors on `template` if there is none."""
    found = None
    if isinstance(template, int) and not isinstance(template, bool) and 0 < template < 2**63:
        found = InstanceTemplate.objects.filter(pk=template).first()
    elif isinstance(template, str):
        lookup = {"pk": int(template)} if template.isdigit() and len(template) < 19 else {"name": template}
        found = InstanceTemplate.objects.filter(**lookup).first()
    if found is None:
        raise builder.AnswerErrors({"template": _("No template %(template)s.") % {"template": str(template)[:64]}})
    return dict(found.answers)


def _volume_facts(conn, ref):
    """(format, exists) of a pool/volume; a missing pool counts as a missing volume."""
    pool, name = builder.split_volume(ref)
    if collect_pool(conn, pool) is None:
        return None
    record = collect_volume(conn, pool, name)
    return None if record is None else record.format


def _live_facts(conn, answers):
    """Everything the plan needs from the host, as plain data (messages are made in the request thread)."""
    facts = {"caps": guest_caps(conn), "name_taken": domain_name_taken(conn, answers.name)}
    if answers.disk_pool:
        pool = collect_pool(conn, answers.disk_pool)
        facts["disk_pool"] = None if pool is None else pool.active
        facts["disk_pool_available"] = 0 if pool is None else pool.available
        facts["volume_taken"] = bool(pool and pool.active
                                     and collect_volume(conn, answers.disk_pool, answers.new_volume_name))
    for name in ("iso_volume", "import_volume"):
        if getattr(answers, name):
            facts[name] = _volume_facts(conn, getattr(answers, name))
    if answers.network:
        facts["networks"] = network_names(conn)
    if answers.bridge:
        facts["interfaces"] = host_interfaces(conn)
    return facts


def _live_errors(answers, facts):
    errors = {}
    if facts["name_taken"]:
        errors["name"] = _("A VM named %(name)s already exists on this host.") % {"name": answers.name}
    if answers.disk_pool:
        if facts["disk_pool"] is None:
            errors["disk_pool"] = _("This host has no storage pool named %(pool)s.") % {"pool": answers.disk_pool}
        elif not facts["disk_pool"]:
            errors["disk_pool"] = _("Pool %(pool)s is not running.") % {"pool": answers.disk_pool}
        elif facts["volume_taken"]:
            errors["disk_pool"] = _("Pool %(pool)s already holds a volume named %(volume)s.") % {
                "pool": answers.disk_pool, "volume": answers.new_volume_name}
        elif answers.disk_allocation == "thick" and answers.disk_size_gib \
                and answers.disk_size_gib * builder.GiB > facts["disk_pool_available"]:
            # A thin volume may promise more than is free (it grows as written); a thick one takes it all now.
            errors["disk_size_gib"] = _("Pool %(pool)s has %(free)s GiB free: too little for a thick volume of "
                                        "%(size)s GiB.") % {"pool": answers.disk_pool, "size": answers.disk_size_gib,
                                                            "free": facts["disk_pool_available"] // builder.GiB}
    for name in ("iso_volume", "import_volume"):
        if getattr(answers, name) and facts[name] is None:
            errors[name] = _("No volume %(volume)s on this host.") % {"volume": getattr(answers, name)}
    if answers.network:
        active = facts["networks"].get(answers.network)
        if active is None:
            errors["network"] = _("This host has no virtual network named %(network)s.") % {
                "network": answers.network}
        elif not active and answers.start:
            errors["network"] = _("Network %(network)s is not running: start it first, or create the VM without "
                                  "starting it.") % {"network": answers.network}
    interfaces = facts.get("interfaces")
    # Only where libvirt lists the host's interfaces; elsewhere a bridge's name is taken on trust.
    if answers.bridge and interfaces is not None and interfaces.get(answers.bridge) != "bridge":
        if answers.bridge in interfaces:
            errors["bridge"] = _("%(bridge)s is not a bridge (%(type)s).") % {
                "bridge": answers.bridge, "type": interfaces[answers.bridge]}
        else:
            errors["bridge"] = _("This host has no interface named %(bridge)s.") % {"bridge": answers.bridge}
    return errors


def plan_instance(host, data, template=None):
    """Check the answers (and the template's, which they override) against the host; return the Plan.

    Raises AnswerErrors naming each bad field; reads the host once; changes nothing (the dry run).
    """
    if template not in (None, ""):
        data = {**template_answers(template), **{k: v for k, v in data.items() if v not in (None, "")}}
    answers = builder.clean_answers(data)
    chosen_os = guest_os(answers.os_variant)
    if chosen_os is None:
        raise builder.AnswerErrors({"os_variant": _("Unknown OS %(os)s: expected an osinfo short id such as "
                                                    "debian11 or win10.") % {"os": answers.os_variant[:64]}})
    facts = call(host, lambda conn: _live_facts(conn, answers))
    errors = _live_errors(answers, facts)
    if errors:
        raise builder.AnswerErrors(errors)
    answers = builder.apply_host(answers, facts["caps"], chosen_os)
    domain = builder.build_domain(answers, facts["caps"], chosen_os,
                                  import_format=facts.get("import_volume") or "raw")
    volume = None
    if answers.disk_pool:
        volume = {"pool": answers.disk_pool, "name": answers.new_volume_name,
                  "capacity": answers.disk_size_gib * builder.GiB, "format": answers.disk_format,
                  "allocation": answers.disk_allocation}
    return Plan(host, answers, domain.to_xml(), volume)


def customized(plan, xml):
    """The plan with the user's edited XML ("Customize"); it must parse (no entities) and keep a name."""
    domain = check_xml(xml)
    if not domain.name:
        raise builder.AnswerErrors({"xml": _("The domain XML needs a <name>.")})
    if any(graphics.passwd for graphics in domain.graphics):
        # The XML is kept in the job's parameters, which the jobs page and API show.
        raise builder.AnswerErrors({"xml": _("Leave the VNC password out here and set it on the VM's page once "
                                             "it exists: this XML is stored with the job, where it can be read.")})
    plan.xml = domain.to_xml()
    return plan


# --------------------------------------------------------------------------- the job's work

def _undo(host, made, job):
    """Remove what a failed create made, newest first; returns what was removed, for the error message."""
    removed = []
    for kind, key in reversed(made):
        try:
            if kind == "domain":
                call(host, lambda conn, uuid=key: _destroy_and_undefine(conn, uuid))
            else:
                call(host, lambda conn, ref=key: delete_volume(conn, *ref))
            removed.append(f"{kind} {key if kind == 'domain' else '/'.join(key)}")
        except VirtError as exc:
            job.log(_("could not remove %(kind)s %(key)s: %(error)s")
                    % {"kind": kind, "key": key, "error": exc.message}, level="error")
    return removed


def _destroy_and_undefine(conn, uuid):
    domain = Domain.lookup(conn, uuid)
    if domain.is_active():
        domain.destroy()
    domain.undefine()


def run_create(host, job, xml, volume=None, start=True):
    """Make the volume, define the domain (libvirt validates it), start it; on failure remove what was made.

    Returns {"instance": pk, "uuid", "name"}; raises a VirtError saying what failed and what was removed.
    """
    made = []
    try:
        if volume:
            job.progress(10, _("creating volume %(pool)s/%(name)s") % {"pool": volume["pool"], "name": volume["name"]})
            call(host, lambda conn: create_volume(conn, volume["pool"], volume["name"], volume["capacity"],
                                                  volume_format=volume["format"], allocation=volume["allocation"]))
            made.append(("volume", (volume["pool"], volume["name"])))
        job.progress(40, _("defining the domain"))
        uuid = call(host, lambda conn: define(conn, xml).uuid)
        made.append(("domain", uuid))
        if start:
            job.progress(70, _("starting"))
            call(host, lambda conn: Domain.lookup(conn, uuid).start())
    except Exception as exc:  # noqa: BLE001 - a cancel or any failure removes what was made
        removed = _undo(host, made, job)
        if not isinstance(exc, VirtError):
            raise
        message = exc.message + (f" (removed: {', '.join(removed)})" if removed else " (nothing was made)")
        raise type(exc)(message) from None
    row = refresh_one(host, uuid)
    if row is not None:  # the job page links to the VM it made
        Job.objects.filter(pk=job.id).update(target_id=str(row.pk), target_name=row.name)
    job.progress(100, _("created %(name)s") % {"name": row.name} if row else _("created"))
    return {"instance": row.pk if row else None, "uuid": uuid, "name": row.name if row else ""}


def check_xml(xml):
    """Parse XML a user typed (no entities), for the Customize step: InvalidConfig with the parser's message."""
    try:
        return DomainXML.from_xml(xml)
    except InvalidConfig as exc:
        raise builder.AnswerErrors({"xml": exc.message}) from None


# --------------------------------------------------------------------------- templates

def template_data(data):
    """What a template stores of the answers: checked (everything but the VM's name), only the fields given."""
    cleaned = builder.clean_answers(data, allowed=builder.TEMPLATE_FIELDS)
    return {key: getattr(cleaned, key) for key in builder.TEMPLATE_FIELDS if data.get(key) not in (None, "")}


def save_template(name, data, description=""):
    """Save the wizard's answers (a VM name among them is dropped) as template `name`; AnswerErrors if taken."""
    problem = name_problem(name)
    if problem:
        raise builder.AnswerErrors({"template_name": _(NAME_PROBLEMS[problem])})
    if InstanceTemplate.objects.filter(name=name).exists():
        raise builder.AnswerErrors({"template_name": _("A template named %(name)s exists.") % {"name": name}})
    answers = template_data({k: v for k, v in data.items() if k != "name"})
    return InstanceTemplate.objects.create(name=name, description=description, answers=answers)
