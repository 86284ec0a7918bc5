"""virt: the only package that imports libvirt. No Django imports here."""
