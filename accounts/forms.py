"""Forms of the account pages."""
from __future__ import annotations

from functools import lru_cache

from django import forms

from servicedesk.forms import ServiceErrorsMixin

from .services import time_zone_names


@lru_cache(maxsize=1)
def time_zone_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """IANA zones grouped by region ("Europe" -> "Europe/Paris"), for a select people can scan."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in sorted(time_zone_names()):
        region, _, place = name.partition("/")
        label = place.replace("_", " ").replace("/", " / ") if place else name
        groups.setdefault(region if place else "Other", []).append((name, label))
    return [(region, zones) for region, zones in sorted(groups.items())]


class TimeZoneField(forms.ChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Your time zone")
        super().__init__(choices=time_zone_choices, **kwargs)


class ProfileForm(ServiceErrorsMixin, forms.Form):
    display_name = forms.CharField(label="Name", max_length=150, help_text="As colleagues will see it.")
    title = forms.CharField(label="Job title", max_length=150, required=False)
    location = forms.CharField(label="Location", max_length=150, required=False,
                               help_text="Office, building or city, so people know where to find you.")
    expertise_tags = forms.CharField(
        label="Expertise", max_length=800, required=False,
        help_text="What colleagues can ask you about, separated by commas (for example: vpn, excel, printers).",
    )
    time_zone = TimeZoneField(help_text="Times, quiet hours and digests follow it.")
    avatar = forms.FileField(label="Photo", required=False,
                             help_text="JPEG, PNG, GIF or WebP up to 5 MB; it is cropped to a square.",
                             widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/gif,image/webp"}))
    avatar_remove = forms.BooleanField(label="Remove my photo", required=False)

    def __init__(self, *args, has_avatar: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not has_avatar:
            del self.fields["avatar_remove"]
        self.fields["avatar"].widget = forms.FileInput(attrs=self.fields["avatar"].widget.attrs)
