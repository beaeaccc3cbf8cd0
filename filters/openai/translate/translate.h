// Umbrella header of gemgate's pure OpenAI ⇄ Gemini translation library (namespace
// gemgate::openai). See README.md in this folder for the API tour.
#pragma once

#include "filters/openai/translate/chat_request.h"   // chat request → Gemini request
#include "filters/openai/translate/chat_response.h"  // Gemini reply → chat.completion
#include "filters/openai/translate/chat_stream.h"    // Gemini SSE → OpenAI SSE, incrementally
#include "filters/openai/translate/embeddings.h"     // /v1/embeddings
#include "filters/openai/translate/errors.h"         // OpenAIError, Expected, Gemini errors
#include "filters/openai/translate/images.h"         // /v1/images/generations
#include "filters/openai/translate/models.h"         // /v1/models
#include "filters/openai/translate/schema.h"         // JSON Schema cleaning
#include "filters/openai/translate/speech.h"         // /v1/audio/speech
