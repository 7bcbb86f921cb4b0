from .menu import menu_for


def crm_context(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"menu": menu_for(user)}
