"""Node files of libvirt's test driver (test:///abs/path/node.xml), checked before libvirt reads them.

libvirt's test driver reads the node file a URI names with the rights of whoever
opens the URI (this process for test:///, the libvirtd, often root, for
test+tcp:// and test+unix://); it also loads every file an element names with
file='...' (/node/domain, network, interface, pool, device, pool/volume and
test:domainsnapshot in libvirt 9.0), and quotes the line of a file it cannot
parse in its error. So libvirt never gets a path a user chose:

- the node file must resolve (symlinks followed) inside an allowed directory,
  and be a regular file of sensible size;
- it is read once and must be well-formed XML rooted at <node>, with no DOCTYPE,
  entities or XInclude, referencing no other file: a `file` attribute is accepted
  only on <source> and <log> (a guest's disk image or log path, which the test
  driver never opens); anywhere else libvirt may load it, now or in a later release;
- libvirt gets a private copy of exactly the bytes checked (0600, named by their
  SHA-256, in a directory of virtdeck's own): a file changed or swapped after the
  check never reaches libvirt, so there is no window between check and use.
"""
import hashlib
import os
import stat
import tempfile
from pathlib import Path

from lxml import etree

from .errors import InvalidConfig, URIError
from .xml.parser import parse_untrusted
from .i18n import _

MAX_BYTES = 32 * 1024 * 1024
FILE_ATTRIBUTE_ALLOWED_ON = {"source", "log"}
XINCLUDE_NS = "http://www.w3.org/2001/XInclude"
_CACHE_SIZE = 256

# (opened path, device, inode, size, mtime) -> (checked bytes, their SHA-256): a file is re-read only
# when it changed, so checking at every connection stays a few system calls.
_checked = {}


def _inside(path, directories):
    return any(os.path.commonpath([path, d]) == d for d in directories)


def _refuse(path, reason):
    raise URIError(_("Node file {path}: {reason}").format(path=path, reason=reason))


def check(content):
    """Raise URIError unless `content` is a node file that references no other file. Never quotes it."""
    try:
        root = parse_untrusted(content)
    except InvalidConfig:
        raise URIError(_("The node file is not well-formed XML, or it has a DOCTYPE or entities.")) from None
    if root.tag != "node":
        raise URIError(_("The node file's root element must be <node>."))
    for element in root.iter(etree.Element):
        name = etree.QName(element)
        if name.namespace == XINCLUDE_NS:
            raise URIError(_("The node file must not include other files (XInclude)."))
        if name.localname not in FILE_ATTRIBUTE_ALLOWED_ON and any(
            etree.QName(attribute).localname == "file" for attribute in element.attrib
        ):
            # libvirt reads attributes by local name, whatever their namespace prefix.
            raise URIError(
                _("The node file must not load other files: <{localname} file='...'> is not accepted; write the "
                  "element into the node file itself.").format(localname=name.localname)
            )


def read(path, allowed_dirs):
    """The bytes of the node file at `path`, checked; URIError says why it is refused."""
    return _read(path, allowed_dirs)[0]


def _read(path, allowed_dirs):
    """(checked bytes, their SHA-256) of the node file at `path`."""
    directories = [os.path.realpath(d) for d in allowed_dirs]
    real = os.path.realpath(path)
    if not _inside(real, directories):
        _refuse(path, _("it must be inside an allowed directory (VIRTDECK_TEST_NODE_DIRS), symbolic links "
                        "resolved."))
    try:
        if not stat.S_ISREG(os.stat(real).st_mode):  # before open(): opening a device can have effects
            _refuse(path, _("not a regular file."))
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        _refuse(path, _("cannot be read ({reason}).").format(reason=exc.strerror))
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        # The file actually opened: a directory on the way may have been swapped since realpath().
        opened = os.readlink(f"/proc/self/fd/{fd}")
        if not stat.S_ISREG(info.st_mode) or not _inside(opened, directories):
            _refuse(path, _("it changed while it was opened."))
        if info.st_size > MAX_BYTES:
            _refuse(path, _("larger than {mib} MiB.").format(mib=MAX_BYTES // 2**20))
        key = (opened, info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
        if key in _checked:
            return _checked[key]
        content = f.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        _refuse(path, _("larger than {mib} MiB.").format(mib=MAX_BYTES // 2**20))
    check(content)
    if len(_checked) >= _CACHE_SIZE:
        _checked.clear()
    _checked[key] = (content, hashlib.sha256(content).hexdigest())
    return _checked[key]


def private_copy(path, allowed_dirs, directory):
    """Path of virtdeck's own copy of the checked node file at `path`: the file libvirt is given."""
    content, digest = _read(path, allowed_dirs)
    directory = Path(directory)
    copy = directory / f"{digest}.xml"
    if not copy.exists():
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".node-", suffix=".xml")  # created 0600
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.replace(tmp, copy)
    return str(copy)
