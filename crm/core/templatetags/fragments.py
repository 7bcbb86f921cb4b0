"""`{% fragment "name" a=expr b %}…{% endfragment %}`: a part of a template rendered once per
process for each language, script prefix and set of values (crm.core.ui.fragments, issue #3).

The body sees only the values named in the tag (`a` bound to `expr`, `b` to the variable `b`),
which must be hashable; anything else of the page's context renders empty in it, so a body cannot
show one user's data to another by mistake. Blocks (`{% block %}`) cannot be inside."""

import itertools

from django import template
from django.template.base import token_kwargs
from django.template.loader_tags import BlockNode

from ..ui import fragments

register = template.Library()
_ids = itertools.count()


class FragmentNode(template.Node):
    def __init__(self, ident, nodelist, values):
        self.ident, self.nodelist, self.values = ident, nodelist, values

    def render(self, context):
        values = {name: expr.resolve(context) for name, expr in self.values.items()}
        match = getattr(getattr(context, "request", None), "resolver_match", None)  # {% url %}'s current app
        key = ("fragment", self.ident, getattr(match, "namespace", None), tuple(sorted(values.items())))
        return fragments.cached(key, lambda: self.nodelist.render(context.new(values)))


@register.tag("fragment")
def do_fragment(parser, token):
    bits = token.split_contents()
    if len(bits) < 2 or bits[1][0] not in "\"'" or bits[1][0] != bits[1][-1]:
        raise template.TemplateSyntaxError("{% fragment %} needs a quoted name first")
    name = bits[1][1:-1]
    values = {}
    for bit in bits[2:]:
        kwarg = token_kwargs([bit], parser)
        if kwarg:
            values.update(kwarg)
        else:
            values[bit] = parser.compile_filter(bit)
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    if nodelist.get_nodes_by_type(BlockNode):
        raise template.TemplateSyntaxError("{% fragment %} cannot hold a {% block %}")
    # Each parsed tag is a fragment of its own: an edited template (development) is parsed again
    # and shows at once; the name is for reading the store.
    return FragmentNode((next(_ids), name), nodelist, values)


@register.simple_tag(takes_context=True)
def side_menu(context):
    """The entries of the side menu (`ui.menu.render_menu`): the context's `menu`, the current page marked."""
    from ..ui.menu import render_menu

    menu, request = context.get("menu"), context.get("request")
    return render_menu(request, menu) if menu and request is not None else ""
