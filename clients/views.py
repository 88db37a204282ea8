from __future__ import annotations

import uuid

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clients.selectors import client_list_for, get_client_for


def client_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(client_list_for(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "clients/client_list.html", {"page": page})


def client_detail(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    client = get_client_for(request, client_id)
    return render(request, "clients/client_detail.html", {"client": client})
