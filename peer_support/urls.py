"""Every peer support page. Each audience's module lists its own routes."""

from .views import mine, public, staff, supporter

app_name = "peer_support"

urlpatterns = [
    *public.urlpatterns,
    *mine.urlpatterns,
    *supporter.urlpatterns,
    *staff.urlpatterns,
]
