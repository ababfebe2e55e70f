#pragma once
/// \file
/// `session::Decoding<M>`: decodes a fresh copy for the model `M` in slices when the model offers a
/// `snapshot_decoder` (a bounded number of objects per `poll()`), else in one step once every
/// byte is in.

#include <resync/concepts/model.hpp>
#include <resync/error.hpp>
#include <resync/result.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace resync::session {

template <Model M>
class Decoding {
public:
    /// Whether this model decodes in slices.
    static constexpr bool sliced = model_requirements::decodes_in_slices<M>;

    /// The next bytes of the copy, in order.
    void feed(std::string&& bytes) {
        if constexpr (sliced) decoder_.feed(std::move(bytes));
        else whole_ += bytes;
    }

    /// Decodes up to `max_objects` more objects from what was fed (a model without a sliced
    /// decoder waits for `finish`). True once the copy is whole and checked.
    Result<bool> step(std::size_t max_objects) {
        if constexpr (sliced) return decoder_.step(max_objects);
        else {
            (void)max_objects;
            return false;
        }
    }

    /// Every byte was fed: the copy is decoded whole (or its error returned).
    Result<bool> finish() {
        if constexpr (sliced) {
            return decoder_.finish();
        } else {
            auto s = M::decode_snapshot(whole_);
            std::string().swap(whole_);
            if (!s) return s.error();
            state_.emplace(std::move(*s));
            return true;
        }
    }

    /// Objects decoded so far (0 until the end for a model decoded in one step).
    std::size_t objects() const {
        if constexpr (sliced) return decoder_.objects();
        else return state_ ? M::object_count(*state_) : 0;
    }

    /// The decoded copy, once `step` or `finish` returned true.
    typename M::snapshot_type take() {
        if constexpr (sliced) return decoder_.take();
        else return std::move(*state_);
    }

private:
    struct Unused {};
    template <bool, class = void>
    struct DecoderOf {
        using type = Unused;
    };
    template <class Void>
    struct DecoderOf<true, Void> {
        using type = typename M::snapshot_decoder;
    };
    [[no_unique_address]] typename DecoderOf<sliced>::type decoder_{};
    [[no_unique_address]] std::conditional_t<sliced, Unused, std::string> whole_{};
    [[no_unique_address]] std::conditional_t<sliced, Unused, std::optional<typename M::snapshot_type>> state_{};
};

} // namespace resync::session
