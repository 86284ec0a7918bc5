"""`<cpu>`: the CPU the guest sees (libvirt's formatdomain.html#cpu-model-and-topology)."""
from .base import XMLObject, XMLProperty, insert_ordered

# host-passthrough: the host's CPU as it is (fastest; migrates only to identical hosts; needs KVM).
# host-model: the closest named model plus the host's features (migratable between similar hosts).
# custom: a named model (e.g. qemu64, Skylake-Client): the same CPU on every host that has it.
CPU_MODES = ("host-passthrough", "host-model", "custom")


class CpuXML(XMLObject):
    ROOT_TAG = "cpu"
    ORDER = ("model", "vendor", "topology", "cache", "maxphysaddr", "feature", "numa")

    mode = XMLProperty("./@mode")
    match = XMLProperty("./@match")  # custom: exact, minimum, strict
    check = XMLProperty("./@check")  # none, partial, full
    migratable = XMLProperty("./@migratable", "onoff")
    model = XMLProperty("./model")
    model_fallback = XMLProperty("./model/@fallback")  # allow, forbid

    @classmethod
    def of(cls, domain):
        """The domain's `<cpu>`, created in its place if missing (domain: a DomainXML)."""
        element = domain.element.find("cpu")
        if element is None:
            element = cls().element
            insert_ordered(domain.element, element, domain.ORDER)
        return cls(element)

    def set_mode(self, mode, model=None):
        """Switch to `mode`; custom needs `model`. What the old mode implied (a model, its features, the
        check level libvirt filled in) goes, the topology stays."""
        for tag in ("model", "vendor", "feature"):
            for child in self.element.findall(tag):
                self.element.remove(child)
        for attribute in ("match", "check", "migratable"):
            self.element.attrib.pop(attribute, None)
        self.mode = mode
        if mode == "custom":
            self.match = "exact"
            self.model = model
            self.model_fallback = "forbid"
