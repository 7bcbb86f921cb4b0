"""Numbering rules (编码规则, SYS-5): prefix + date part + zero-padded, gap-free sequence.

An entity opts in with `EntitySpec(number_field="code")`; the create service then fills that
field from the entity's active rule when it was left blank (see `services.next_number`).
"""
