#include "kube/list_watch.h"

#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"

namespace kestrel::kube {

using ::k8s::io::apimachinery::pkg::apis::meta::v1::ObjectMeta;

const ObjectMeta* MetaOf(const google::protobuf::Message& object) {
  const google::protobuf::FieldDescriptor* field =
      object.GetDescriptor()->FindFieldByName("metadata");
  if (field == nullptr || field->is_repeated() ||
      field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
    return nullptr;
  }
  return google::protobuf::DynamicCastToGenerated<ObjectMeta>(
      &object.GetReflection()->GetMessage(object, field));
}

absl::StatusOr<std::string> KeyOf(const google::protobuf::Message& object) {
  const ObjectMeta* meta = MetaOf(object);
  if (meta == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(object.GetDescriptor()->name(), ": no metadata, so no key"));
  }
  if (meta->name().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(object.GetDescriptor()->name(), ": metadata.name: empty, so no key"));
  }
  if (meta->namespace_().empty()) return meta->name();
  return absl::StrCat(meta->namespace_(), "/", meta->name());
}

std::string ResourceVersionOf(const google::protobuf::Message& object) {
  const ObjectMeta* meta = MetaOf(object);
  return meta == nullptr ? std::string() : meta->resourceversion();
}

absl::string_view WatchEventTypeName(WatchEventType type) {
  switch (type) {
    case WatchEventType::kAdded:
      return "ADDED";
    case WatchEventType::kModified:
      return "MODIFIED";
    case WatchEventType::kDeleted:
      return "DELETED";
    case WatchEventType::kBookmark:
      return "BOOKMARK";
    case WatchEventType::kError:
      return "ERROR";
  }
  return "UNKNOWN";
}

absl::StatusOr<PagedList> ListAllPages(ListerWatcher& lw, ListOptions options, int64_t page_size) {
  if (options.limit == 0) options.limit = page_size;
  const std::string requested_version = options.resource_version;
  PagedList result;
  while (true) {
    absl::StatusOr<ListPage> page = lw.List(options);
    if (!page.ok()) {
      // Only an expired continue token is worth a second try: the version
      // the first page was read at has been compacted away meanwhile.
      if (page.status().code() != absl::StatusCode::kOutOfRange || options.continue_token.empty()) {
        return page.status();
      }
      ListOptions full;
      full.resource_version = requested_version;
      absl::StatusOr<ListPage> all = lw.List(full);
      if (!all.ok()) return all.status();
      return PagedList{*std::move(all), /*paginated=*/true};
    }
    if (!result.paginated) {
      if (page->continue_token.empty()) return PagedList{*std::move(page), /*paginated=*/false};
      result.page.resource_version = page->resource_version;
    }
    std::move(page->items.begin(), page->items.end(), std::back_inserter(result.page.items));
    std::move(page->undecodable.begin(), page->undecodable.end(),
              std::back_inserter(result.page.undecodable));
    if (page->continue_token.empty()) return result;
    options.continue_token = page->continue_token;
    // The API refuses a resourceVersion together with a continue token.
    options.resource_version.clear();
    result.paginated = true;
  }
}

}  // namespace kestrel::kube
