// The Anthropic Messages ⇄ Gemini translator (pure, no I/O): everything in one include.
#pragma once

#include "filters/anthropic/translate/errors.h"
#include "filters/anthropic/translate/messages_request.h"
#include "filters/anthropic/translate/messages_response.h"
#include "filters/anthropic/translate/messages_stream.h"
#include "filters/anthropic/translate/models.h"
