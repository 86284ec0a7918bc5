# A boot sector that keeps dirtying guest memory, so a live migration has real pages to copy
# again and again (an idle SeaBIOS guest is mostly zero pages). It enters 32-bit protected mode
# and writes a counter into the first dword of every 4 KiB page from 1 MiB to 33 MiB, forever:
# 32 MiB dirtied per pass. Assembled by lab/guest.py: as --32; ld -Ttext 0x7c00 --oformat binary.
.code16
.globl _start
_start:
    cli
    xor %ax, %ax
    mov %ax, %ds
    in $0x92, %al
    or $2, %al
    out %al, $0x92
    lgdt gdtdesc
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmp $0x08, $pm
.code32
pm:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ecx, %ecx
outer:
    mov $0x00100000, %edi
inner:
    mov %ecx, (%edi)
    add $4096, %edi
    cmp $0x02100000, %edi
    jb inner
    inc %ecx
    jmp outer
.p2align 3
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff
    .quad 0x00cf92000000ffff
gdtdesc:
    .word 23
    .long gdt
.org 510
.word 0xaa55
